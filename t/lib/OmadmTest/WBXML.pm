package OmadmTest::WBXML;

# A WBXML codec for the tests, written from omadm-protocol.md §7 alone and
# independent of the module's C++ one, so that a test can catch a codec
# bug: xml_to_wbxml() turns the fake device's XML into WBXML (optionally
# with a string table and OPAQUE Data, as captured handset messages
# have), wbxml_to_xml() turns the server's WBXML answer back into XML for
# OmadmTest::SyncML.  http() wraps a device's HTTP::Tiny so that an
# OmadmTest::Device talks WBXML without knowing it.

use strict;
use warnings;
use Exporter 'import';
use OmadmTest::SyncML qw(xml_escape);

our @EXPORT_OK = qw(xml_to_wbxml wbxml_to_xml mb_u_int32 $SAMPLE_XML);

# The DM 1.2 package 1 of the protocol digest's verified sample (§7), whose
# WBXML bytes libwbxml 0.11.8 produced.
our $SAMPLE_XML = '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>'
    . '<VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>'
    . '<Target><LocURI>https://dm.example.com/omadm</LocURI></Target>'
    . '<Source><LocURI>IMEI:490154203237518</LocURI></Source><Meta>'
    . '<MaxMsgSize xmlns="syncml:metinf">10000</MaxMsgSize></Meta></SyncHdr>'
    . '<SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/>'
    . '</SyncBody></SyncML>';

my @PAGE0 = qw(Add Alert Archive Atomic Chal Cmd CmdID CmdRef Copy Cred Data
    Delete Exec Final Get Item Lang LocName LocURI Map MapItem Meta MsgID
    MsgRef NoResp NoResults Put Replace RespURI Results Search Sequence
    SessionID SftDel Source SourceRef Status Sync SyncBody SyncHdr SyncML
    Target TargetRef - VerDTD VerProto NumberOfChanges MoreData Field Filter
    Record FilterType SourceParent TargetParent Move Correlator);
my @PAGE1 = qw(Anchor EMI Format FreeID FreeMem Last Mark MaxMsgSize Mem
    MetInf Next NextNonce SharedMem Size Type Version MaxObjSize FieldLevel);

my (%TOKEN0, %TOKEN1);
@TOKEN0{@PAGE0} = map { $_ + 5 } 0 .. $#PAGE0;
@TOKEN1{@PAGE1} = map { $_ + 5 } 0 .. $#PAGE1;
delete $TOKEN0{'-'};

my %PUBLIC_ID = ('1.1' => 0x0FD3, '1.2' => 0x1201);

sub mb_u_int32 {
    my ($v) = @_;
    my @b = ($v & 0x7F);
    $v >>= 7;
    while ($v) { unshift @b, 0x80 | ($v & 0x7F); $v >>= 7 }
    return pack 'C*', @b;
}

# xml_to_wbxml($xml, strtbl => 1 (public id and LocURIs through the string
# table), opaque => 1 (Data as OPAQUE)).  Text is taken as UTF-8 bytes.
sub xml_to_wbxml {
    my ($xml, %o) = @_;
    my $root = OmadmTest::SyncML::parse_xml($xml);
    my ($ver) = ($root->{attr}{xmlns} // '') =~ /SYNCML(\d\.\d)$/i;
    my $table = '';
    my %at;
    my $ref = sub {                      # string-table index of a string
        my ($s) = @_;
        return $at{$s} //= do { my $i = length $table; $table .= "$s\0"; $i };
    };
    my $head = chr(0x02);                # WBXML 1.2
    if ($o{strtbl}) {
        $head .= "\x00" . mb_u_int32($ref->("-//SYNCML//DTD SyncML $ver//EN"));
    } else {
        $head .= mb_u_int32($PUBLIC_ID{$ver // '1.2'});
    }
    $head .= mb_u_int32(106);
    my $page = 0;
    my $body = '';
    my $walk;
    $walk = sub {
        my ($n) = @_;
        my $want = exists $TOKEN1{$n->{name}} ? 1 : 0;
        my $tok = $want ? $TOKEN1{$n->{name}} : $TOKEN0{$n->{name}};
        die "no WBXML token for <$n->{name}>\n" unless defined $tok;
        if ($want != $page) { $body .= "\x00" . chr($want); $page = $want }
        my $text = @{ $n->{kids} } ? '' : $n->{text};
        utf8::encode($text) if utf8::is_utf8($text);
        unless (@{ $n->{kids} } || length $text) {
            $body .= chr($tok);
            return;
        }
        $body .= chr($tok | 0x40);
        if (@{ $n->{kids} }) {
            $walk->($_) for @{ $n->{kids} };
        } elsif ($o{opaque} && $n->{name} eq 'Data') {
            $body .= "\xC3" . mb_u_int32(length $text) . $text;
        } elsif ($o{strtbl} && $n->{name} eq 'LocURI') {
            $body .= "\x83" . mb_u_int32($ref->($text));
        } else {
            die "NUL in text\n" if $text =~ /\0/;
            $body .= "\x03$text\x00";
        }
        $body .= "\x01";
    };
    $walk->($root);
    return $head . mb_u_int32(length $table) . $table . $body;
}

# The XML of a WBXML SyncML message (dies on anything unexpected).
sub wbxml_to_xml {
    my ($w) = @_;
    my $pos = 0;
    my $byte = sub {
        die "WBXML truncated at $pos\n" if $pos >= length $w;
        return ord substr($w, $pos++, 1);
    };
    my $mb = sub {
        my $v = 0;
        for (1 .. 5) {
            my $c = $byte->();
            $v = ($v << 7) | ($c & 0x7F);
            return $v unless $c & 0x80;
        }
        die "mb_u_int32 too long\n";
    };
    my $version = $byte->();
    die "WBXML version $version\n" unless $version >= 1 && $version <= 3;
    my $pid = $mb->();
    my $pid_index = $pid == 0 ? $mb->() : undef;
    die "charset not UTF-8\n" unless $mb->() == 106;
    my $tlen = $mb->();
    my $table = substr($w, $pos, $tlen);
    die "string table truncated\n" unless length $table == $tlen;
    $pos += $tlen;
    my $tstr = sub {
        my ($i) = @_;
        my $end = index($table, "\0", $i);
        die "bad string table index $i\n" if $i >= $tlen || $end < 0;
        return substr($table, $i, $end - $i);
    };
    my $ns;
    if (defined $pid_index) {
        ($ns) = $tstr->($pid_index) =~ /SyncML (\d\.\d)/;
    } else {
        ($ns) = grep { $PUBLIC_ID{$_} == $pid } keys %PUBLIC_ID;
    }
    die "unknown public id\n" unless $ns;
    my ($page, $xml, @open) = (0, '');
    my $first = 1;
    while ($pos < length $w) {
        my $t = $byte->();
        if ($t == 0x00) { $page = $byte->(); next }
        if ($t == 0x01) { die "unbalanced END\n" unless @open;
                          $xml .= '</' . pop(@open) . '>'; next }
        if ($t == 0x03) {
            my $end = index($w, "\0", $pos);
            die "STR_I truncated\n" if $end < 0;
            $xml .= xml_escape(substr($w, $pos, $end - $pos));
            $pos = $end + 1;
            next;
        }
        if ($t == 0x83) { $xml .= xml_escape($tstr->($mb->())); next }
        if ($t == 0xC3) {
            my $len = $mb->();
            die "OPAQUE truncated\n" if $pos + $len > length $w;
            $xml .= xml_escape(substr($w, $pos, $len));
            $pos += $len;
            next;
        }
        die sprintf("unexpected WBXML token 0x%02X\n", $t) if $t & 0x80
            || ($t & 0x3F) < 5;
        my $names = $page == 0 ? \@PAGE0 : $page == 1 ? \@PAGE1
                  : die "code page $page\n";
        my $name = $names->[($t & 0x3F) - 5] // die "unknown tag $t\n";
        my $attr = $first ? qq{ xmlns="SYNCML:SYNCML$ns"}
                 : $page == 1 ? ' xmlns="syncml:metinf"' : '';
        $first = 0;
        if ($t & 0x40) { $xml .= "<$name$attr>"; push @open, $name }
        else { $xml .= "<$name$attr/>" }
    }
    die "unclosed elements: @open\n" if @open;
    return $xml;
}

# http($http_tiny, %xml_to_wbxml_options): an object with HTTP::Tiny's
# post() that sends the XML content as WBXML with the WBXML type (unless
# wbxml_type => '...' says another) and gives a WBXML answer back as XML,
# the bytes received in {raw_content} and their type in {wbxml_type};
# received => \@list collects every WBXML answer's bytes (for a second
# decoder to read them too).
sub http {
    my ($inner, %o) = @_;
    return bless { inner => $inner, o => \%o }, 'OmadmTest::WBXML::HTTP';
}

package OmadmTest::WBXML::HTTP;

sub post {
    my ($self, $url, $args) = @_;
    my %o = %{ $self->{o} };
    my $type = delete $o{wbxml_type} // 'application/vnd.syncml.dm+wbxml';
    my $received = delete $o{received};
    my %a = %$args;
    $a{headers} = { %{ $args->{headers} || {} }, 'Content-Type' => $type };
    $a{content} = OmadmTest::WBXML::xml_to_wbxml($args->{content}, %o);
    $self->{last_sent} = $a{content};
    my $res = $self->{inner}->post($url, \%a);
    $res->{raw_content} = $res->{content};
    if ($res->{status} == 200
        && ($res->{headers}{'content-type'} // '') =~ /wbxml/) {
        push @$received, $res->{content} if $received;
        $res->{content} = OmadmTest::WBXML::wbxml_to_xml($res->{content});
    }
    return $res;
}

sub last_sent { $_[0]{last_sent} }

1;

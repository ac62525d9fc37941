package OmadmTest::SyncML;

# Just enough XML for the tests: a strict little reader for the server's
# SyncML responses (so a malformed response fails the test instead of
# being guessed at) and an escaper for the messages the fake device
# builds.  No XML module is needed beyond Perl's core.

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(xml_escape parse_response);

my %ENT = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'");

sub xml_escape {
    my ($s) = @_;
    return '' unless defined $s;
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    return $s;
}

sub _unescape {
    my ($s) = @_;
    $s =~ s{&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(\w+));}{
        defined $1 ? chr(hex $1) : defined $2 ? chr($2)
        : exists $ENT{$3} ? $ENT{$3} : die "unknown entity &$3;\n"
    }ge;
    return $s;
}

# Element tree: { name => local name, attr => {..}, kids => [..], text => '' }
sub parse_xml {
    my ($s) = @_;
    my ($root, @stack);

    $s =~ s/^\x{FEFF}//;
    $s =~ s/^\s*<\?xml[^>]*\?>//;
    # a DOCTYPE without internal subset (libwbxml2's wbxml2xml writes one)
    $s =~ s/^\s*<!DOCTYPE\s[^>\[]*>//;

    pos($s) = 0;
    while (pos($s) < length $s) {
        if ($s =~ /\G<!\[CDATA\[(.*?)\]\]>/gcs) {
            die "text outside the root element\n" unless @stack;
            $stack[-1]{text} .= $1;
        } elsif ($s =~ /\G<!--.*?-->/gcs) {
        } elsif ($s =~ /\G<\/([\w:.-]+)\s*>/gc) {
            my $name = _local($1);
            die "unexpected </$1>\n" unless @stack && $stack[-1]{name} eq $name;
            pop @stack;
        } elsif ($s =~ /\G<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/gc) {
            my ($qname, $attrs, $empty) = ($1, $2, $3);
            my %attr;
            while ($attrs =~ /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g) {
                $attr{$1} = _unescape(defined $2 ? $2 : $3);
            }
            my $node = { name => _local($qname), attr => \%attr, kids => [],
                         text => '' };
            if (@stack) {
                push @{ $stack[-1]{kids} }, $node;
            } else {
                die "second root element\n" if $root;
                $root = $node;
            }
            push @stack, $node unless $empty;
        } elsif ($s =~ /\G([^<]+)/gc) {
            my $text = $1;
            if (@stack) {
                $stack[-1]{text} .= _unescape($text);
            } elsif ($text =~ /\S/) {
                die "text outside the root element\n";
            }
        } else {
            die "malformed XML at offset " . pos($s) . "\n";
        }
    }
    die "unclosed <$stack[-1]{name}>\n" if @stack;
    die "no root element\n" unless $root;
    return $root;
}

sub _local { my ($n) = @_; $n =~ s/^.*://; return $n }

sub kid {
    my ($node, $path) = @_;
    for my $name (split m{/}, $path) {
        return undef unless $node;
        ($node) = grep { $_->{name} eq $name } @{ $node->{kids} };
    }
    return $node;
}

sub text {
    my ($node, $path) = @_;
    my $n = kid($node, $path);
    return $n ? $n->{text} : undef;
}

sub _meta {
    my ($m) = @_;
    return undef unless $m;
    return { map { $_ => text($m, $_) } qw(Type Format NextNonce Mark Size) };
}

sub _command {
    my ($n) = @_;
    my %c = (name => $n->{name}, node => $n);
    $c{$_} = text($n, $_) for qw(CmdID MsgRef CmdRef Cmd Data Correlator);
    $c{TargetRef} = [ map { $_->{text} } grep { $_->{name} eq 'TargetRef' }
                      @{ $n->{kids} } ];
    $c{SourceRef} = [ map { $_->{text} } grep { $_->{name} eq 'SourceRef' }
                      @{ $n->{kids} } ];
    $c{chal} = _meta(kid($n, 'Chal/Meta'));
    $c{meta} = _meta(kid($n, 'Meta'));
    $c{items} = [ map {
        my $meta = _meta(kid($_, 'Meta')) || {};
        { target => text($_, 'Target/LocURI'),
          source => text($_, 'Source/LocURI'),
          format => $meta->{Format}, type => $meta->{Type},
          size   => $meta->{Size},
          more_data => kid($_, 'MoreData') ? 1 : 0,
          data   => text($_, 'Data') }
    } grep { $_->{name} eq 'Item' } @{ $n->{kids} } ];
    return \%c;
}

# A server message as plain data:
#   { ns, hdr => {VerDTD, VerProto, SessionID, MsgID, Target, Source,
#                 RespURI, MaxMsgSize, MaxObjSize}, cmds => [ {name, CmdID,
#                 MsgRef, CmdRef, Cmd, Data, TargetRef, SourceRef, chal,
#                 meta, items => [ {target, source, format, type, size,
#                 more_data, data} ]} ], final }
sub parse_response {
    my ($body) = @_;
    my $root = parse_xml($body);
    die "root is <$root->{name}>, not <SyncML>\n" unless $root->{name} eq 'SyncML';
    my $hdr = kid($root, 'SyncHdr') or die "no SyncHdr\n";
    my $sb = kid($root, 'SyncBody') or die "no SyncBody\n";
    my %h = map { $_ => text($hdr, $_) } qw(VerDTD VerProto SessionID MsgID
                                            RespURI);
    $h{Target} = text($hdr, 'Target/LocURI');
    $h{Source} = text($hdr, 'Source/LocURI');
    $h{$_} = text($hdr, "Meta/$_") for qw(MaxMsgSize MaxObjSize);
    my @cmds = map { _command($_) } grep { $_->{name} ne 'Final' }
               @{ $sb->{kids} };
    my $final = grep { $_->{name} eq 'Final' } @{ $sb->{kids} };
    return { ns => $root->{attr}{xmlns}, hdr => \%h, cmds => \@cmds,
             final => $final ? 1 : 0, order => [ map { $_->{name} }
             @{ $sb->{kids} } ] };
}

1;

package OmadmTest::Device;

# A scripted OMA DM client: it builds package 1 (Alert 1201 + DevInfo
# Replace, optional Basic/MD5 Cred), posts over HTTPS verifying the test CA,
# follows RespURI, keeps the NextNonce it is given (as a real device does,
# even from a challenge) and answers server commands from a small node tree.

use strict;
use warnings;
use Digest::MD5 qw(md5);
use HTTP::Tiny;
use OmadmTest::NoDelay;
use MIME::Base64 qw(encode_base64 decode_base64);
use OmadmTest::SyncML qw(xml_escape parse_response);

sub b64 { encode_base64($_[0], '') }

# B64(MD5(B64(MD5(user:pass)) ":" nonce_bytes)), nonce given as base64
sub md5_cred {
    my ($user, $pass, $nonce_b64) = @_;
    my $inner = b64(md5("$user:$pass"));
    return b64(md5($inner . ':' . decode_base64($nonce_b64 // '')));
}

sub basic_cred { my ($user, $pass) = @_; return b64("$user:$pass") }

# syncml:auth-MAC (§5.5): B64(MD5(inner ":" nonce_bytes ":" B64(MD5(body))))
sub hmac_mac {
    my ($inner, $nonce_b64, $body) = @_;
    return b64(md5($inner . ':' . decode_base64($nonce_b64 // '') . ':'
                   . b64(md5($body))));
}

# The x-syncml-hmac value a sender with user/pass puts on body.
sub hmac_header {
    my ($user, $pass, $nonce_b64, $body) = @_;
    my $mac = hmac_mac(b64(md5("$user:$pass")), $nonce_b64, $body);
    return qq{algorithm=MD5, username="$user", mac=$mac};
}

# Wraps an HTTP client so that every request of device $d carries
# x-syncml-hmac over the exact bytes sent (put it under OmadmTest::WBXML's
# wrapper to sign WBXML).  $d->{hmac_off} sends none; $d->{hmac_tamper}
# (a sub) changes the body after signing.  Keeps raw_content.
sub hmac_http {
    my ($d, $inner) = @_;
    return bless { d => $d, inner => $inner }, 'OmadmTest::Device::HMAC';
}

# new(url, ca, id, user, pass, version => '1.2', nonce => b64, auth => 'md5',
#     session => '1', devinfo => {..}, max_msg_size => 20000,
#     max_obj_size => bytes (declared only when given),
#     keep_alive => 1 (one persistent connection),
#     local_address => '127.0.0.2' (another client address on loopback),
#     no_locname => 1 (no Source/LocName, as most real clients),
#     locname => name (LocName other than the user the Cred is made for))
sub new {
    my ($class, %o) = @_;
    my $self = bless {
        version => '1.2', auth => 'md5', session => '1', msg_id => 0,
        devinfo => { Man => 'Example Corp', Mod => 'X100', Lang => 'en-US' },
        %o,
    }, $class;
    $self->{base_url} = $self->{url};
    $self->{http} = OmadmTest::NoDelay->new(
        timeout => 10, keep_alive => $self->{keep_alive} ? 1 : 0, verify_SSL => 1,
        SSL_options => { SSL_ca_file => $self->{ca} },
        ($self->{local_address} ? (local_address => $self->{local_address}) : ()));
    return $self;
}

sub nonce { $_[0]{nonce} }
sub url { $_[0]{url} }

# Starts a new session: new SessionID, MsgID from 1, back to the base URL.
sub new_session {
    my ($self, $sid) = @_;
    $self->{session} = defined $sid ? $sid : $self->{session} + 1;
    $self->{msg_id} = 0;
    $self->{url} = $self->{base_url};
    delete $self->{last};
    return $self;
}

sub _ver {
    my ($self) = @_;
    my $v = $self->{version};
    return ($self->{ns} // "SYNCML:SYNCML$v", $self->{ver_dtd} // $v,
            $self->{ver_proto} // "DM/$v");
}

# SyncHdr for the next message.  cred: 'md5' | 'basic' | undef (none);
# password/nonce/user override what goes into the Cred.
sub header {
    my ($self, %o) = @_;
    my ($ns, $dtd, $proto) = $self->_ver;
    my $user = $o{user} // $self->{user};
    my $pass = $o{password} // $self->{pass};
    my $x = "<SyncHdr><VerDTD>$dtd</VerDTD><VerProto>$proto</VerProto>"
        . "<SessionID>" . xml_escape($self->{session}) . "</SessionID>"
        . "<MsgID>$self->{msg_id}</MsgID>"
        . "<Target><LocURI>" . xml_escape($self->{url}) . "</LocURI></Target>"
        . "<Source><LocURI>" . xml_escape($self->{id}) . "</LocURI>"
        . ($self->{no_locname} ? ''
           : "<LocName>" . xml_escape($self->{locname} // $user) . "</LocName>")
        . "</Source>";
    if (my $c = $o{cred}) {
        my ($type, $data) = $c eq 'basic'
            ? ('syncml:auth-basic', basic_cred($user, $pass))
            : ('syncml:auth-md5',
               md5_cred($user, $pass, $o{nonce} // $self->{nonce}));
        $x .= "<Cred><Meta><Type xmlns=\"syncml:metinf\">$type</Type>"
            . "<Format xmlns=\"syncml:metinf\">b64</Format></Meta>"
            . "<Data>$data</Data></Cred>";
    }
    $x .= '<Meta><MaxMsgSize xmlns="syncml:metinf">'
        . ($self->{max_msg_size} // 20000) . '</MaxMsgSize>'
        . (defined $self->{max_obj_size} ? '<MaxObjSize xmlns="syncml:metinf">'
           . $self->{max_obj_size} . '</MaxObjSize>' : '')
        . '</Meta></SyncHdr>';
    return $x;
}

sub _wrap {
    my ($self, $hdr, $body) = @_;
    my ($ns) = $self->_ver;
    return qq{<?xml version="1.0" encoding="UTF-8"?>\n<SyncML xmlns="$ns">}
        . $hdr . "<SyncBody>$body<Final/></SyncBody></SyncML>";
}

# Status for the server's SyncHdr, as the first body element.
sub _hdr_status {
    my ($self, $r, $cmd_id, $code) = @_;
    # hdr_reply => {code, nonce} (one message): the device's verdict on
    # the server's Cred and a Chal with the nonce the server must use next
    my $o = delete $self->{hdr_reply} || {};
    my $chal = defined $o->{nonce}
        ? '<Chal><Meta><Type xmlns="syncml:metinf">' . ($o->{type}
            // 'syncml:auth-md5') . '</Type><Format xmlns="syncml:metinf">b64'
          . '</Format><NextNonce xmlns="syncml:metinf">' . $o->{nonce}
          . '</NextNonce></Meta></Chal>' : '';
    return "<Status><CmdID>$cmd_id</CmdID><MsgRef>$r->{hdr}{MsgID}</MsgRef>"
        . "<CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
        . "<TargetRef>" . xml_escape($r->{hdr}{Target}) . "</TargetRef>"
        . "<SourceRef>" . xml_escape($r->{hdr}{Source}) . "</SourceRef>"
        . $chal . "<Data>" . ($code // $o->{code} // 200) . "</Data></Status>";
}

# Package 1: [Status for the previous server SyncHdr], Alert 1201 (or
# alert => code), [alerts => [{..}] (see alert)], DevInfo Replace
# [, generic_alert => {..}].  Increments MsgID.  Returns the XML.
sub package1 {
    my ($self, %o) = @_;
    $self->{msg_id}++;
    my $cred = exists $o{cred} ? $o{cred} : $self->{auth};
    my $n = 1;
    my $body = '';
    $body .= $self->_hdr_status($self->{last}, $n++) if $self->{last};
    $body .= "<Alert><CmdID>" . $n++ . "</CmdID><Data>"
        . ($o{alert} // 1201) . "</Data></Alert>";
    $body .= $self->alert($n++, $_) for @{ $o{alerts} || [] };
    my %di = (DevId => $self->{id}, DmV => $self->{version},
              %{ $self->{devinfo} });
    $body .= "<Replace><CmdID>" . $n++ . "</CmdID>";
    for my $k (qw(DevId Man Mod DmV Lang), grep { !/^(DevId|Man|Mod|DmV|Lang)$/ }
               sort keys %di) {
        next unless defined $di{$k};
        $body .= "<Item><Source><LocURI>./DevInfo/$k</LocURI></Source>"
            . "<Data>" . xml_escape($di{$k}) . "</Data></Item>";
    }
    $body .= "</Replace>";
    $body .= $self->generic_alert($n++, %{ $o{generic_alert} })
        if $o{generic_alert};
    return $self->_wrap($self->header(%o, cred => $cred), $body);
}

# A Generic Alert 1226: correlator, source, type, format, mark, data.
sub generic_alert {
    my ($self, $cmd_id, %a) = @_;
    my $meta = join '', map {
        defined $a{lc $_} ? "<$_ xmlns=\"syncml:metinf\">" . xml_escape($a{lc $_})
                            . "</$_>" : ''
    } qw(Type Format Mark);
    return "<Alert><CmdID>$cmd_id</CmdID><Data>1226</Data>"
        . (defined $a{correlator}
           ? "<Correlator>" . xml_escape($a{correlator}) . "</Correlator>" : '')
        . "<Item><Source><LocURI>" . xml_escape($a{source}) . "</LocURI></Source>"
        . "<Meta>$meta</Meta><Data>" . xml_escape($a{data}) . "</Data></Item>"
        . "</Alert>";
}

# Any device Alert: { code, correlator?, items => [ { target?, source?,
# type?, format?, mark?, data? } ] }; absent fields are left out.
sub alert {
    my ($self, $cmd_id, $a) = @_;
    my $x = "<Alert><CmdID>$cmd_id</CmdID><Data>$a->{code}</Data>";
    $x .= "<Correlator>" . xml_escape($a->{correlator}) . "</Correlator>"
        if defined $a->{correlator};
    for my $i (@{ $a->{items} || [] }) {
        $x .= '<Item>';
        for my $where (qw(Target Source)) {
            $x .= "<$where><LocURI>" . xml_escape($i->{lc $where})
                . "</LocURI></$where>" if defined $i->{lc $where};
        }
        my $meta = join '', map {
            defined $i->{lc $_} ? "<$_ xmlns=\"syncml:metinf\">"
                . xml_escape($i->{lc $_}) . "</$_>" : ''
        } qw(Type Format Mark);
        $x .= "<Meta>$meta</Meta>" if length $meta;
        $x .= "<Data>" . xml_escape($i->{data}) . "</Data>" if defined $i->{data};
        $x .= '</Item>';
    }
    return "$x</Alert>";
}

# Package 3 (or 5...): Status for the server SyncHdr, a Status for every
# server command and Results for each successful Get, then alerts =>
# [{..}] (see alert).  tree: {uri => value} (a Get of a missing node ->
# 404); codes: {uri => status} overrides; add_exists => 1 answers 418 to
# an Add of a node the tree holds.  nested => 1 answers the
# commands inside Atomic and Sequence too, an Atomic all or nothing (one
# child failing: 507 for it, 216 for the others); apply => 1 carries out
# what succeeds on tree, as a device does: Add and Replace store their
# Data, Delete removes the node.
sub answer {
    my ($self, $r, %o) = @_;
    $self->{msg_id}++;
    my $tree = $o{tree} || {};
    my $codes = $o{codes} || {};
    my $n = 1;
    my $body = $self->_hdr_status($r, $n++);
    my $results = '';
    my $code_of = sub {
        my ($c) = @_;
        my $target = _target($c);
        return $codes->{$target}
            // ($c->{name} eq 'Get' && !exists $tree->{$target} ? 404
               : $o{add_exists} && $c->{name} eq 'Add' && exists $tree->{$target} ? 418
               : 200);
    };
    my $reply = sub {
        my ($c, $code) = @_;
        my $target = _target($c);
        $body .= "<Status><CmdID>" . $n++ . "</CmdID>"
            . "<MsgRef>$r->{hdr}{MsgID}</MsgRef>"
            . "<CmdRef>" . xml_escape($c->{CmdID}) . "</CmdRef>"
            . "<Cmd>$c->{name}</Cmd>"
            . "<TargetRef>" . xml_escape($target) . "</TargetRef>"
            . "<Data>$code</Data></Status>";
        _carry_out($c, $tree) if $o{apply} && $code =~ /^2/ && $code != 216;
        return unless $c->{name} eq 'Get' && $code == 200;
        $results .= "<Results><CmdID>" . $n++ . "</CmdID>"
            . "<MsgRef>$r->{hdr}{MsgID}</MsgRef>"
            . "<CmdRef>" . xml_escape($c->{CmdID}) . "</CmdRef>"
            . "<Item><Source><LocURI>" . xml_escape($target) . "</LocURI></Source>"
            . '<Meta><Format xmlns="syncml:metinf">chr</Format>'
            . '<Type xmlns="syncml:metinf">text/plain</Type></Meta>'
            . "<Data>" . xml_escape($tree->{$target}) . "</Data></Item></Results>";
    };
    for my $c (commands($r)) {
        if (!$o{nested} || $c->{name} !~ /^(Atomic|Sequence)$/) {
            $reply->($c, $code_of->($c));
            next;
        }
        my (undef, @kids) = flatten($c);
        my %code = map { ($_->{CmdID} => $code_of->($_)) } @kids;
        my $rolled_back = $c->{name} eq 'Atomic' && grep { !/^2/ } values %code;
        $reply->($c, $rolled_back ? 507 : 200);
        for my $k (@kids) {
            my $code = $code{ $k->{CmdID} };
            $reply->($k, $rolled_back && $code =~ /^2/ ? 216 : $code);
        }
    }
    $body .= $results;
    $body .= $self->alert($n++, $_) for @{ $o{alerts} || [] };
    return $self->_wrap($self->header(cred => $o{cred}), $body);
}

sub _target { my ($c) = @_; return $c->{items}[0] ? $c->{items}[0]{target} // '' : '' }

# What a device does with a command it accepted (answer's apply).
sub _carry_out {
    my ($c, $tree) = @_;
    my $target = _target($c);
    if ($c->{name} =~ /^(Add|Replace)$/) {
        $tree->{$target} = $c->{items}[0]{data};
    } elsif ($c->{name} eq 'Delete') {
        delete $tree->{$target};
    }
}

# Server commands depth first, nested ones after their container, each
# { name, CmdID, items, Data, kids => [...] }.
sub flatten {
    my @out;
    for my $c (@_) {
        push @out, $c;
        next unless $c->{name} =~ /^(Atomic|Sequence)$/;
        my @kids = map { OmadmTest::SyncML::_command($_) }
                   grep { $_->{name} ne 'Meta' && $_->{name} ne 'CmdID'
                          && $_->{name} ne 'NoResp' } @{ $c->{node}{kids} };
        $c->{kids} = \@kids;
        push @out, flatten(@kids);
    }
    return @out;
}

# The device's plain reply to server message $r: Status for its SyncHdr,
# Status 200 for each of its commands, Alert 1222 when next (asking for
# the server's next message), then extra: XML, or a sub given the next
# CmdID that returns it; Final unless final => 0.  Increments MsgID.
sub ack {
    my ($self, $r, %o) = @_;
    $self->{msg_id}++;
    my $n = 1;
    my $body = $self->_hdr_status($r, $n++);
    for my $c (commands($r)) {
        $body .= "<Status><CmdID>" . $n++ . "</CmdID>"
            . "<MsgRef>$r->{hdr}{MsgID}</MsgRef>"
            . "<CmdRef>" . xml_escape($c->{CmdID}) . "</CmdRef>"
            . "<Cmd>$c->{name}</Cmd><Data>200</Data></Status>";
    }
    $body .= $self->alert($n++, { code => 1222 }) if $o{next};
    my $extra = $o{extra} // '';
    $body .= ref $extra eq 'CODE' ? $extra->($n) : $extra;
    my $xml = $self->_wrap($self->header, $body);
    $xml =~ s{<Final/></SyncBody>}{</SyncBody>} if defined $o{final} && !$o{final};
    return $xml;
}

# Posts one message to the current URL.  Returns the HTTP::Tiny response
# with {syncml} (parsed) on a 200.  Follows RespURI and stores any
# NextNonce, as a device does.
sub post {
    my ($self, $xml, %o) = @_;
    my $url = $o{url} // $self->{url};
    my $res = $self->{http}->post($url, {
        headers => { 'Content-Type' => $o{content_type}
                     // 'application/vnd.syncml.dm+xml; charset=utf-8' },
        content => $xml });
    $self->{last_request} = { url => $url, xml => $xml };
    return $res unless $res->{status} == 200;
    my $r = eval { parse_response($res->{content}) };
    die "unparsable SyncML response ($@):\n$res->{content}\n" unless $r;
    $res->{syncml} = $r;
    $self->{last} = $r;
    $self->{url} = $r->{hdr}{RespURI} if $r->{hdr}{RespURI};
    my $st = hdr_status($r);
    $self->{nonce} = $st->{chal}{NextNonce}
        if $st && $st->{chal} && $st->{chal}{NextNonce};
    return $res;
}

# The same bytes to the same URL again (a device that lost the response).
sub resend {
    my ($self) = @_;
    my $l = $self->{last_request};
    return $self->post($l->{xml}, url => $l->{url});
}

# --- reading responses ---------------------------------------------------

sub hdr_status {
    my ($r) = @_;
    my ($s) = grep { $_->{name} eq 'Status' && ($_->{Cmd} // '') eq 'SyncHdr' }
              @{ $r->{cmds} };
    return $s;
}

sub statuses { grep { $_->{name} eq 'Status' } @{ $_[0]{cmds} } }

package OmadmTest::Device::HMAC;

sub post {
    my ($self, $url, $args) = @_;
    my $d = $self->{d};
    my %a = %$args;
    unless ($d->{hmac_off}) {
        $a{headers} = { %{ $args->{headers} || {} }, 'x-syncml-hmac' =>
            OmadmTest::Device::hmac_header($d->{user}, $d->{pass},
                                           $d->{nonce}, $a{content}) };
    }
    $a{content} = $d->{hmac_tamper}->($a{content}) if $d->{hmac_tamper};
    $d->{sent} = { url => $url, %a };    # exactly what went out, to replay
    my $res = $self->{inner}->post($url, \%a);
    $res->{raw_content} = $res->{content};
    return $res;
}

package OmadmTest::Device;

# management commands (everything but Status/Results)
sub commands { grep { $_->{name} !~ /^(Status|Results)$/ } @{ $_[0]{cmds} } }

1;

#!/usr/bin/perl
# An outsider who knows only a device id attacks a device's sessions,
# against real nginx and omadm-backend, in MD5 and HMAC, XML and WBXML:
#
# * Session fixation: the outsider opens the victim's session (its id, the
#   SessionID the victim will use) without credentials, and then, after
#   the victim logged in, posts forged Results, asks for the victim's
#   commands and answers them, and pre-empts the victim's next MsgID.  The
#   RespURI token is minted only when a message authenticates, so the
#   outsider never holds the victim's: every attempt gets 407/401 and
#   nothing of the victim's, and the victim's session completes.
# * A repeat is the same message: the victim's own MsgID again with other
#   content (or, over HMAC, without its MAC) is a new attempt, never the
#   kept answer.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::WBXML;

my $t = OmadmTest->new(locations => {
    '/omadm' => {},
    '/hmac'  => { omadm_auth => 'hmac md5', omadm_challenge => 'hmac' },
})->start;

sub hs { OmadmTest::Device::hdr_status($_[0]{syncml} || { cmds => [] }) || {} }
sub commands { OmadmTest::Device::commands($_[0]{syncml} || { cmds => [] }) }

# A client for $id in the given scheme and encoding; register => 0.
sub client {
    my (%o) = @_;
    my ($scheme, $enc) = (delete $o{scheme}, delete $o{enc});
    my $d = $t->device(register => 0, user => 'dev1', pass => 'secret',
                       path => $scheme eq 'hmac' ? '/hmac' : '/omadm',
                       auth => $scheme eq 'hmac' ? undef : 'md5', %o);
    if ($scheme eq 'hmac') {
        $d->{http} = OmadmTest::Device::hmac_http($d, $d->{http});
    }
    $d->{http} = OmadmTest::WBXML::http($d->{http}) if $enc eq 'wbxml';
    return $d;
}

for my $scheme (qw(md5 hmac)) {
    for my $enc (qw(xml wbxml)) {
        my $case = "$scheme/$enc";
        my $id = "IMEI:victim-$scheme-$enc";
        my ($st) = $t->api(POST => '/devices', { device_id => $id,
            username => 'dev1', password => 'secret' });
        is($st, 201, "$case: victim registered");
        my $get = $t->queue_command($id, { verb => 'Get',
                                           target => './DevDetail/SwV' });
        my $secret = $t->queue_command($id, { verb => 'Replace',
            target => './Vendor/Wifi/PSK', data => 'the-wifi-secret' });

        # ① the outsider opens the session the victim will use: no Cred
        my $evil = client(scheme => $scheme, enc => $enc, id => $id,
                          session => '5', local_address => '127.0.0.2');
        $evil->{hmac_off} = 1;
        my $res = $evil->post($evil->package1(cred => undef));
        is(hs($res)->{Data}, '407', "$case: the outsider is challenged");
        unlike($res->{syncml}{hdr}{RespURI} // '', qr/[?&]s=/,
               "$case: ... and given no session token");

        # ② the victim logs in with SessionID 5
        my $v = client(scheme => $scheme, enc => $enc, id => $id,
                       session => '5');
        if ($scheme eq 'md5') {
            $v->post($v->package1(cred => undef));    # learns its nonce
        } else {
            $v->{hmac_off} = 1;
            $v->post($v->package1(cred => undef));
            delete $v->{hmac_off};
        }
        my $login = $v->post($v->package1);
        is(hs($login)->{Data}, '212', "$case: the victim gets in");
        my ($token) = ($login->{syncml}{hdr}{RespURI} // '') =~ /[?&]s=(\w+)/;
        ok($token, "$case: ... with a session token of its own");
        is_deeply([ map { $_->{name} } commands($login) ], [qw(Get Replace)],
                  "$case: ... and its commands");

        # ③ the outsider answers the victim's Get with forged Results and
        # asks for more, to wherever it was told to post
        my $forged = $evil->answer($login->{syncml},
                                   tree => { './DevDetail/SwV' => 'FORGED' });
        $res = $evil->post($forged);
        like(hs($res)->{Data} // '', qr/^40[17]$/,
             "$case: forged Results get $res->{status} / 401 or 407");
        is(scalar(commands($res)), 0, "$case: ... and no command");
        unlike($res->{content} // '', qr/the-wifi-secret/,
               "$case: ... nor the victim's secret");

        # ④ the outsider pre-empts the victim's next MsgID
        my $next = $v->{msg_id} + 1;
        $evil->{msg_id} = $next - 1;
        $res = $evil->post($evil->answer($login->{syncml}));
        like(hs($res)->{Data} // '', qr/^40[17]$/,
             "$case: the victim's next MsgID from the outsider: refused");
        is($t->get_command($id, $get)->{state}, 'sent',
           "$case: the victim's Get untouched");
        is($t->get_command($id, $secret)->{state}, 'sent',
           "$case: the victim's Replace untouched");

        # ⑤ the victim's own answer is processed, not taken for a repeat
        $res = $v->post($v->answer($login->{syncml},
                                   tree => { './DevDetail/SwV' => '10.0' }));
        is(hs($res)->{Data}, '200', "$case: the victim's next message: 200");
        my $c = $t->get_command($id, $get);
        is($c->{state}, 'done', "$case: its Get done");
        is_deeply([ map { $_->{data} } @{ $c->{results} || [] } ], ['10.0'],
                  "$case: ... with the device's own result only");
        is($t->get_command($id, $secret)->{state}, 'done',
           "$case: its Replace done");
        ok(!grep({ $_->{name} ne 'Status' } @{ $res->{syncml}{cmds} }),
           "$case: the session is over (nothing more to send)");

        # ⑥ the victim's MsgID again, with other content: a new attempt, not
        # the kept answer (over HMAC, the same bytes without the MAC too)
        my $last = $v->{last_request};
        my $kept = $res->{content};
        my $replay = $last->{xml};
        $replay =~ s{</SyncBody>}{<Alert><CmdID>99</CmdID><Data>1224</Data></Alert></SyncBody>};
        $v->{hmac_off} = 1 if $scheme eq 'hmac';
        $res = $v->post($replay, url => $last->{url});
        # (the session ended with that message, so anything but the kept
        # answer must ask for credentials again)
        like(hs($res)->{Data} // '', qr/^40[17]$/,
             "$case: same MsgID, other content: refused, not the kept answer");
        isnt($res->{content}, $kept, "$case: ... the answer is not the kept one");
        if ($scheme eq 'hmac') {
            $res = $v->post($last->{xml}, url => $last->{url});
            like(hs($res)->{Data} // '', qr/^40[17]$/,
               "$case: the same bytes without their MAC: refused, not the kept answer");
        }
        delete $v->{hmac_off};
    }
}

# A repeat of the very message, token and MAC included, is still answered
# from the cache, byte for byte, with no second backend exchange.
{
    my $id = 'IMEI:repeat-hmac';
    $t->api(POST => '/devices', { device_id => $id, username => 'dev1',
                                  password => 'secret' });
    $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
    my $d = client(scheme => 'hmac', enc => 'xml', id => $id, session => '9');
    $d->{hmac_off} = 1;
    $d->post($d->package1(cred => undef));
    delete $d->{hmac_off};
    my $nonce = $d->nonce;
    my $login = $d->post($d->package1);
    is(hs($login)->{Data}, '212', 'hmac repeat: logged in');
    my $calls = $t->backend_calls('exchange');
    $d->{nonce} = $nonce;    # the device lost the answer: the nonce it had
    my $again = $d->resend;
    is($again->{content}, $login->{content},
       'hmac repeat with its MAC: the kept answer, byte for byte');
    is($t->backend_calls('exchange'), $calls, '... and no second exchange');
}

$t->check_error_log;
done_testing;

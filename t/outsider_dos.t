#!/usr/bin/perl
# An outsider who knows only a device id tries to keep the device from
# logging in, against real nginx and omadm-backend:
#
# * Throttle lockout: wrong Creds from another address throttle that
#   address, not the device (failures count per device and address).
# * Nonce rotation: a credential-less message before each of the device's
#   logins gets the same nonce the device holds, so the device's login is
#   never made stale.
# * Zone flushing: thousands of credential-less messages, for unknown ids
#   and for the device itself, store nothing, so a live session and the
#   outsider's own failure counter survive them.
# * A failure counter that cannot be kept refuses the login (503 with
#   Retry-After) instead of letting an uncounted guess through.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

sub hs { OmadmTest::Device::hdr_status($_[0]{syncml} || { cmds => [] }) || {} }

# A small zone, so that a flood would have evicted a session before.
my $t = OmadmTest->new(session_zone => 'zone=omadm:64k ttl=5m',
    locations => { '/omadm' => { omadm_auth_failures => '3 60s' } })->start;

# --- throttle lockout -------------------------------------------------------
my $id = 'IMEI:lockout';
my $v = $t->device(id => $id, user => 'dev1', pass => 'secret');
my $evil = $t->device(id => $id, user => 'dev1', pass => 'guess', register => 0,
                      local_address => '127.0.0.2');
for my $n (1 .. 5) {
    $evil->new_session;
    $evil->post($evil->package1(cred => undef)) if $n == 1;   # its nonce
    my $res = $evil->post($evil->package1);
    like(hs($res)->{Data}, qr/^401$/, "outsider's wrong Cred $n: 401");
}
$evil->new_session;
my $res = $evil->post($evil->package1);
ok(!(hs($res)->{chal} || {})->{NextNonce},
   'the outsider is throttled (no NextNonce)');
$t->access_log_like(qr/auth=throttled/, 'access log: auth=throttled');

$res = $v->post($v->package1(cred => undef));
is(hs($res)->{Data}, '407', 'the device, from its own address: challenged');
$res = $v->post($v->package1);
is(hs($res)->{Data}, '212', '... and its right Cred gets in while the outsider is throttled');

# --- nonce rotation ---------------------------------------------------------
$id = 'IMEI:rotation';
$v = $t->device(id => $id, user => 'dev1', pass => 'secret');
$evil = $t->device(id => $id, user => 'x', pass => 'x', register => 0,
                   local_address => '127.0.0.3');
for my $round (1 .. 3) {
    $v->new_session;
    my $c1 = $v->post($v->package1(cred => undef));
    is(hs($c1)->{Data}, '407', "round $round: the device is challenged");
    # the outsider provokes a challenge between the device's two messages,
    # in a session of its own or in the device's (SessionID and MsgID)
    $evil->new_session($round == 3 ? $v->{session} : "evil$round");
    my $e = $evil->post($evil->package1(cred => undef));
    is((hs($e)->{chal} || {})->{NextNonce}, (hs($c1)->{chal} || {})->{NextNonce},
       "round $round: the outsider's challenge carries the same nonce");
    $res = $v->post($v->package1);
    is(hs($res)->{Data}, '212', "round $round: the device's login is not stale");
}

# --- one address over many devices ------------------------------------------
# Past 8 x omadm_auth_failures failures over all devices (3 here: 24), an
# address is throttled for every device, so it cannot spread counters over
# a fleet; another address is not.
my @fleet = map { "IMEI:spread-$_" } 1 .. 10;
$t->register_device($_, 'dev1', 'secret') for @fleet;
my $throttled_at;
for my $i (0 .. $#fleet) {
    my $d = $t->device(id => $fleet[$i], user => 'dev1', pass => 'guess',
                       register => 0, local_address => '127.0.0.6');
    $d->post($d->package1(cred => undef));
    for (1 .. 3) {
        $d->new_session;
        my $r = $d->post($d->package1);
        $throttled_at //= $i if !(hs($r)->{chal} || {})->{NextNonce};
    }
}
is($throttled_at, 8, 'the address is throttled on the 9th device (24 failures)');
my $honest = $t->device(id => $fleet[-1], user => 'dev1', pass => 'secret',
                        register => 0);
$honest->post($honest->package1(cred => undef));
is(hs($honest->post($honest->package1))->{Data}, '212',
   '... while the device itself, from its own address, gets in');

# --- zone flushing ----------------------------------------------------------
$id = 'IMEI:flush';
$v = $t->device(id => $id, user => 'dev1', pass => 'secret', session => '77');
$t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$v->post($v->package1(cred => undef));
my $login = $v->post($v->package1);
is(hs($login)->{Data}, '212', 'flush: the device is in a session');
# the outsider at 127.0.0.4 is throttled first
my $e4 = $t->device(id => $id, user => 'dev1', pass => 'guess', register => 0,
                    local_address => '127.0.0.4');
$e4->post($e4->package1(cred => undef));
for (1 .. 3) { $e4->new_session; $e4->post($e4->package1) }
$e4->new_session;
ok(!(hs($e4->post($e4->package1))->{chal} || {})->{NextNonce},
   'flush: the outsider is throttled');
# ... then floods: unknown ids with big messages, and the device's own id
my $big = '<Alert><CmdID>9</CmdID><Data>1224</Data></Alert>' x 60;
my $flood = $t->device(id => 'x', user => 'x', pass => 'x', register => 0,
                       keep_alive => 1, local_address => '127.0.0.5');
my $ok = 0;
for my $n (1 .. 1500) {
    $flood->{id} = $n % 2 ? "IMEI:ghost-$n" : $id;
    $flood->new_session("f$n");
    my $body = $flood->package1(cred => undef);
    $body =~ s{</SyncBody>}{$big</SyncBody>};
    $ok++ if ($flood->post($body)->{status} // 0) == 200;
}
is($ok, 1500, 'flush: 1,500 credential-less messages answered');
$res = $v->post($v->answer($login->{syncml}, tree => { './DevDetail/SwV' => '1' }));
is(hs($res)->{Data}, '200', 'flush: the live session survived');
$e4->new_session;
ok(!(hs($e4->post($e4->package1))->{chal} || {})->{NextNonce},
   'flush: the outsider is still throttled');

# --- a counter that cannot be kept ------------------------------------------
# Counters may take a quarter of the zone: wrong Creds from many addresses
# fill it, and then a login whose counter cannot be stored is refused.
$id = 'IMEI:counters';
$t->register_device($id, 'dev1', 'secret');
my ($refused, $retry_after) = (0, 0);
for my $n (10 .. 250) {
    my $d = $t->device(id => $id, user => 'dev1', pass => 'guess',
                       register => 0, local_address => "127.0.1.$n");
    $d->post($d->package1(cred => undef));
    my $r = $d->post($d->package1);
    next unless $r->{status} == 503;
    $refused++;
    $retry_after++ if $r->{headers}{'retry-after'};
    last if $refused >= 3;
}
ok($refused >= 3, 'counters full: logins refused with 503');
is($retry_after, $refused, '... with Retry-After');
like($t->error_log, qr/failed-authentication counters fill/,
     '... and the error log says why');

$t->check_error_log;
done_testing;

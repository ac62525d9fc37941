#!/usr/bin/perl
# Contract calls per session (issue 12), counted from the backend's request
# log as bench/run.sh does: with contract version 2 the `nonce` answer
# carries the credential record and the module keeps it in the zone, so a
# login after a challenge, a device's next session and every message of an
# HMAC session need no `auth`.  A backend answering the old shapes
# (--contract-version 1) still works, with the old calls.  And a kept copy
# never outlives the backend's credentials: a password changed through the
# operator API, or a device deleted or unenrolled, takes effect at the very
# next login.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

my %locations = (
    '/omadm' => {},
    '/hmac'  => { omadm_auth => 'hmac md5', omadm_challenge => 'hmac' },
);

sub hs { OmadmTest::Device::hdr_status($_[0]{syncml}) || {} }

# every contract call the backend logged so far, by op (it logs just after
# it answered: read until the log stops growing)
sub settled_log {
    my ($t) = @_;
    my ($log, $prev) = ($t->backend_log, '');
    while ($log ne $prev) {
        sleep 0.3;
        ($prev, $log) = ($log, $t->backend_log);
    }
    return $log;
}

sub calls {
    my ($t) = @_;
    my $log = settled_log($t);
    my %n = map { $_ => scalar(() = $log =~ m{POST /contract/$_ }g) }
            qw(nonce auth exchange);
    return \%n;
}

sub delta {
    my ($after, $before) = @_;
    return { map { $_ => $after->{$_} - $before->{$_} } keys %$after };
}

# One whole session of device $d: [a challenge,] the login, the device's
# Statuses for the command queued before it.  Returns the calls it made
# and the login's SyncHdr status.
sub session {
    my ($t, $d, $id, %o) = @_;
    $t->queue_command($id, { verb => 'Replace', target => './X/Y', data => '1' });
    my $before = calls($t);
    $d->new_session;
    my $res;
    if ($o{challenge}) {
        local $d->{hmac_off} = 1;
        $res = $d->post($d->package1(cred => undef));
        return (undef, hs($res)->{Data}) unless (hs($res)->{Data} // '') eq '407';
    }
    $res = $d->post($d->package1(cred => $o{cred}));
    my $login = hs($res)->{Data} // 'none';
    return (delta(calls($t), $before), $login) unless $login eq '212';
    my @cmds = OmadmTest::Device::commands($res->{syncml});
    $res = $d->post($d->ack($res->{syncml}));
    my $end = hs($res)->{Data} // 'none';
    return (delta(calls($t), $before), $end eq '200' ? '212' : "ack $end");
}

sub hmac_device {
    my ($t, $id) = @_;
    my $d = $t->device(register => 0, path => '/hmac', id => $id,
                       user => 'dev1', pass => 'secret', auth => undef);
    $d->{http} = OmadmTest::Device::hmac_http($d, $d->{http});
    return $d;
}

# The calls of a first and a later session in each scheme, against a
# backend of the given contract version.
sub scheme_counts {
    my ($version, $expect) = @_;
    my $t = OmadmTest->new(locations => \%locations,
        backend_args => [ '--contract-version', $version ])->start;
    my %got;

    my $md5 = $t->device(id => "IMEI:1$version", user => 'dev1', pass => 'secret');
    for my $which (qw(first later)) {
        my ($c, $login) = session($t, $md5, "IMEI:1$version",
                                  challenge => $which eq 'first', cred => 'md5');
        is($login, '212', "v$version md5 $which session: logged in, Statuses taken");
        $got{"md5 $which"} = $c;
    }

    my $basic = $t->device(id => "IMEI:2$version", user => 'dev1', pass => 'secret',
                           auth => 'basic');
    for my $which (qw(first later)) {
        my ($c, $login) = session($t, $basic, "IMEI:2$version", cred => 'basic');
        is($login, '212', "v$version basic $which session: logged in");
        $got{"basic $which"} = $c;
    }

    $t->register_device("IMEI:3$version", 'dev1', 'secret');
    my $hmac = hmac_device($t, "IMEI:3$version");
    for my $which (qw(first later)) {
        my ($c, $login) = session($t, $hmac, "IMEI:3$version",
                                  challenge => $which eq 'first', cred => undef);
        is($login, '212', "v$version hmac $which session: logged in");
        $got{"hmac $which"} = $c;
    }
    for my $k (sort keys %$expect) {
        is_deeply($got{$k}, $expect->{$k}, "v$version $k: contract calls")
            or diag explain $got{$k};
    }
    my %per_session = map { $_ => fleet($t, $version, $_) } qw(md5 hmac basic);
    $t->stop;
    return \%per_session;
}

# Under load: omadm-sim's fleet, SIM_SESSIONS sessions per device (the first
# takes a queued command, the others find nothing), many at once; the
# calls per completed session, every contract op counted.
my ($DEVICES, $SESSIONS, $CONC) = (split /,/, $ENV{CONTRACT_CALLS_FLEET} // '60,3,30');
sub fleet {
    my ($t, $version, $auth) = @_;
    return undef unless -x $OmadmTest::SIM;
    my $before = () = settled_log($t) =~ m{POST /contract/}g;
    my $sim = $t->start_sim(devices => $DEVICES, sessions => $SESSIONS, verify => 1,
        concurrency => $CONC, auth => $auth, prefix => "v$version$auth",
        ($auth eq 'hmac' ? (path => '/hmac') : ()), quiet => undef);
    my $r = $t->wait_sim($sim, 300);
    is($r->{exit}, 0, "v$version $auth fleet: every session done, every command verified")
        or diag $r->{stderr};
    my $after = () = settled_log($t) =~ m{POST /contract/}g;
    my $n = $r->{sessions_completed} || 1;
    my $per = ($after - $before) / $n;
    diag(sprintf "contract v%d, %s, %d devices x %d sessions, %d at once: "
                 . "%.2f contract calls per session (%d calls, %d sessions)",
         $version, $auth, $DEVICES, $SESSIONS, $CONC, $per, $after - $before, $n);
    return $per;
}

# Contract version 1, the calls as before: MD5 4 then 3, HMAC an `auth`
# for every message.
my $v1 = scheme_counts(1, {
    'md5 first'   => { nonce => 1, auth => 1, exchange => 2 },
    'md5 later'   => { nonce => 0, auth => 1, exchange => 2 },
    'basic first' => { nonce => 0, auth => 1, exchange => 2 },
    'basic later' => { nonce => 0, auth => 1, exchange => 2 },
    'hmac first'  => { nonce => 1, auth => 2, exchange => 2 },
    'hmac later'  => { nonce => 0, auth => 2, exchange => 2 },
});
# Version 2: the challenge's `nonce` brings the record, later sessions
# find it in the zone; what is left is one exchange per device message.
my $v2 = scheme_counts(2, {
    'md5 first'   => { nonce => 1, auth => 0, exchange => 2 },
    'md5 later'   => { nonce => 0, auth => 0, exchange => 2 },
    'basic first' => { nonce => 0, auth => 1, exchange => 2 },
    'basic later' => { nonce => 0, auth => 0, exchange => 2 },
    'hmac first'  => { nonce => 1, auth => 0, exchange => 2 },
    'hmac later'  => { nonce => 0, auth => 0, exchange => 2 },
});

SKIP: {
    skip 'omadm-sim not built', 3 unless defined $v2->{md5};
    # a device's first session makes 3 (MD5, HMAC: nonce and two
    # exchanges; Basic: auth and two), each later one 1 or 2: at most 2 on
    # average from 3 sessions a device on
    for my $auth (qw(md5 hmac basic)) {
        ok($v2->{$auth} < $v1->{$auth} && ($SESSIONS < 3 || $v2->{$auth} <= 2),
           sprintf('%s under load: %.2f calls per session (v1: %.2f)%s',
                   $auth, $v2->{$auth}, $v1->{$auth},
                   $SESSIONS < 3 ? '' : ', at most 2'));
    }
}

# ---- a kept copy never outlives the backend's credentials -----------------

my $t = OmadmTest->new(locations => \%locations)->start;

sub set_password {
    my ($id, $pw) = @_;
    my ($st) = $t->api(PUT => '/devices/' . OmadmTest::uri_escape($id)
                              . '/password', { password => $pw });
    is($st, 204, "password of $id changed through the operator API");
}

# MD5: the device holds its nonce; only the password changes.
my $mid = 'IMEI:41';
my $m = $t->device(id => $mid, user => 'dev1', pass => 'old-secret');
my (undef, $login) = session($t, $m, $mid, challenge => 1, cred => 'md5');
is($login, '212', 'md5: a session with the old password');
(undef, $login) = session($t, $m, $mid, cred => 'md5');
is($login, '212', '... and the next (its record kept in the zone)');
set_password($mid, 'new-secret');
my ($c, $code) = session($t, $m, $mid, cred => 'md5');
is($code, '401', 'md5: the old password fails at the very next login');
is($c->{exchange}, 1, '... refused by the exchange (credentials changed)')
    or diag explain $c;
is($c->{auth}, 1, '... then checked against auth');
like($t->backend_log, qr{POST /contract/exchange 409 }, '... which answered 409');
$m->{pass} = 'new-secret';
(undef, $login) = session($t, $m, $mid, cred => 'md5');
is($login, '212', '... and the new one works at once');
(undef, $login) = session($t, $m, $mid, cred => 'md5');
is($login, '212', '... and again (the new record kept)');
$m->{pass} = 'old-secret';
(undef, $code) = session($t, $m, $mid, cred => 'md5');
is($code, '401', '... while the old one still fails');

# Basic: the password is the credential itself.
my $bid = 'IMEI:42';
my $b = $t->device(id => $bid, user => 'dev1', pass => 'old-secret', auth => 'basic');
(undef, $login) = session($t, $b, $bid, cred => 'basic');
is($login, '212', 'basic: a session with the old password');
set_password($bid, 'new-secret');
(undef, $code) = session($t, $b, $bid, cred => 'basic');
is($code, '401', 'basic: the old password fails at the very next login');
$b->{pass} = 'new-secret';
(undef, $login) = session($t, $b, $bid, cred => 'basic');
is($login, '212', '... and the new one works at once');

# HMAC: a message signed with the old password's inner value.
my $hid = 'IMEI:43';
$t->register_device($hid, 'dev1', 'secret');
my $h = hmac_device($t, $hid);
(undef, $login) = session($t, $h, $hid, challenge => 1, cred => undef);
is($login, '212', 'hmac: a session with the old password');
set_password($hid, 'other');
(undef, $code) = session($t, $h, $hid, cred => undef);
is($code, '401', 'hmac: a MAC made with the old password fails at once');

# Deleted, and registered again with another password: the nonce starts
# over too, but what decides is the credentials.
my $did = 'IMEI:44';
my $dd = $t->device(id => $did, user => 'dev1', pass => 'secret', auth => 'basic');
(undef, $login) = session($t, $dd, $did, cred => 'basic');
is($login, '212', 'a device about to be deleted logs in');
my ($st) = $t->api(DELETE => '/devices/' . OmadmTest::uri_escape($did));
is($st, 204, 'deleted through the operator API');
my $res = $dd->post($dd->new_session->package1(cred => 'basic'));
is(hs($res)->{Data}, '401', 'a deleted device fails at the very next login');
is_deeply([ $t->api(GET => '/devices/' . OmadmTest::uri_escape($did)) ]->[0], 404,
          '... and was not brought back');
$t->register_device($did, 'dev1', 'another');
$res = $dd->post($dd->new_session->package1(cred => 'basic'));
is(hs($res)->{Data}, '401', 're-registered with another password: the old fails');
$dd->{pass} = 'another';
$res = $dd->post($dd->new_session->package1(cred => 'basic'));
is(hs($res)->{Data}, '212', '... the new one works');

# An outsider (another address) naming a device with a kept copy: wrong
# digests, no Cred at all, a made-up MAC.  Its guesses still go to `auth`
# (a copy never refuses anyone), its challenges do not move the device's
# nonce, and the device's next login still needs no `auth`.
my $oid = 'IMEI:45';
my $dev = $t->device(id => $oid, user => 'dev1', pass => 'secret');
(undef, $login) = session($t, $dev, $oid, challenge => 1, cred => 'md5');
is($login, '212', 'a device logs in, its record kept');
my $held = $dev->nonce;
my $out = $t->device(id => $oid, user => 'dev1', pass => 'guess', register => 0,
                     local_address => '127.0.0.2');
my $before = calls($t);
for my $i (1 .. 3) {
    $out->new_session("x$i");
    $out->{nonce} = $held;
    my $r = $out->post($out->package1(cred => 'md5'));
    is(hs($r)->{Data}, '401', "outsider's wrong digest $i: 401");
    $out->new_session("y$i");
    $r = $out->post($out->package1(cred => undef));
    is(hs($r)->{chal}{NextNonce}, $held, "outsider's challenge $i: the device's own nonce");
}
my $oc = delta(calls($t), $before);
is($oc->{auth}, 3, "each of the outsider's guesses was checked by auth")
    or diag explain $oc;
($c, $code) = session($t, $dev, $oid, cred => 'md5');
is($code, '212', 'the device logs in after the outsider');
is($c->{auth}, 0, '... still without auth') or diag explain $c;

# Copies take free room only: an outsider's challenges naming many
# registered ids (each brings a record) never push a live session out of a
# small zone.
{
    my $z = OmadmTest->new(session_zone => 'zone=omadm:64k ttl=5m',
                           locations => \%locations)->start;
    my $N = 300;
    $z->register_device("IMEI:many-$_", 'dev1', 'secret') for 1 .. $N;
    my $lid = 'IMEI:live';
    my $live = $z->device(id => $lid, user => 'dev1', pass => 'secret');
    $z->queue_command($lid, { verb => 'Get', target => './DevDetail/SwV' });
    $live->post($live->package1(cred => undef));
    my $in = $live->post($live->package1(cred => 'md5'));
    is(hs($in)->{Data}, '212', 'small zone: a device in a session');
    my $flood = $z->device(id => 'x', user => 'x', pass => 'x', register => 0,
                           keep_alive => 1, local_address => '127.0.0.3');
    my $challenged = 0;
    for my $n (1 .. $N) {
        $flood->{id} = "IMEI:many-$n";
        $flood->new_session("f$n");
        $challenged++ if (hs($flood->post($flood->package1(cred => undef)))->{Data} // '') eq '407';
    }
    is($challenged, $N, "small zone: $N challenges for registered ids");
    my $r = $live->post($live->answer($in->{syncml}, tree => { './DevDetail/SwV' => '1' }));
    is(hs($r)->{Data}, '200', '... and the live session survived them');
    $z->stop;
}

# The copy is secret material: never in a log.
my $inner = OmadmTest::Device::b64(Digest::MD5::md5('dev1:new-secret'));
unlike($t->error_log, qr/\Q$inner\E/, 'no credential record in the error log');

done_testing;

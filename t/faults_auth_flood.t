#!/usr/bin/perl
# A device flooding wrong passwords from four clients while a fleet runs:
# after omadm_auth_failures (5 in 60 s) its credentials are no longer
# evaluated (401 without NextNonce, no backend call), while the
# simulator's devices complete unaffected and omadm-sim --verify finds
# every command done exactly once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

plan skip_all => "$OmadmTest::SIM not built"
    unless -x $OmadmTest::SIM || $ENV{FAULTS_NO_SIM};

my ($N, $M, $K) = (30, 4, 3);
my ($CLIENTS, $TRIES) = (4, 40);
my $t = OmadmTest->new->start;
$t->register_device('IMEI:flood', 'uf', 'right');

my $sim = -x $OmadmTest::SIM
    ? $t->start_sim(devices => $N, sessions => $M, verify => $K, concurrency => $N,
                    retries => 50, retry_cap_ms => 300, seed => 15, prefix => 'calm')
    : undef;

# each answer as "<status> <nonce|->"
my @got = $t->parallel($CLIENTS, sub {
    my ($c) = @_;
    my $d = $t->device(id => 'IMEI:flood', user => 'uf', pass => 'right',
                       register => 0);
    my @r;
    for my $i (1 .. $TRIES) {
        $d->new_session("$c-$i");
        my $res = $d->post($d->package1(password => 'wrong'));
        my $st = $res->{syncml} && OmadmTest::Device::hdr_status($res->{syncml});
        push @r, $st ? ($st->{Data} . ' ' . (($st->{chal} || {})->{NextNonce} // '-'))
                     : "HTTP$res->{status} -";
    }
    return join "\n", @r;
});
my @answers = map { split /\n/ } @got;
is(scalar(grep { /^401 / } @answers), $CLIENTS * $TRIES,
   'every wrong password answered 401');
my $with_nonce = grep { /^401 [^-]/ } @answers;
ok($with_nonce >= 5 && $with_nonce <= 5 + $CLIENTS,
   "only the first failures (5 + at most $CLIENTS racing) carry a NextNonce: $with_nonce");
my $failed = () = $t->access_log =~ /dev=IMEI:flood .*auth=failed/g;
my $throttled = () = $t->access_log =~ /dev=IMEI:flood .*auth=throttled/g;
ok($failed <= 5 + $CLIENTS, "credentials evaluated (backend asked) only $failed times");
is($failed + $throttled, $CLIENTS * $TRIES, "the rest throttled: $throttled");

# the right password is refused while throttled: the window has not passed
my $d = $t->device(id => 'IMEI:flood', user => 'uf', pass => 'right', register => 0);
$d->new_session('after');
my $res = $d->post($d->package1(cred => 'basic'));
is((OmadmTest::Device::hdr_status($res->{syncml}) // {})->{Data}, '401',
   'the flooding device is refused even with its right password');

if ($sim) {
    my $r = $t->wait_sim($sim, 150);
    $t->check_sim($r, devices => $N, sessions => $M, verify => $K);
}
$t->check_error_log;
done_testing;

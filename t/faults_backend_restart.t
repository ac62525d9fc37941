#!/usr/bin/perl
# The backend killed with SIGKILL and restarted, twice, in the middle of a
# fleet run: devices get 503 with Retry-After meanwhile, retry, and
# omadm-sim --verify finds every queued command done exactly once, with
# the device's exact answer.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use OmadmTest;

plan skip_all => "$OmadmTest::SIM not built" unless -x $OmadmTest::SIM;

my ($N, $M, $K) = (40, 10, 3);
my $t = OmadmTest->new(locations => { '/omadm' => { omadm_retry_after => 1 } })->start;

# until the backend has logged $n more contract calls (the run is under way)
sub wait_calls {
    my ($n) = @_;
    my $base = () = $t->backend_log =~ m{POST /contract/}g;
    my $deadline = time + 30;
    while (time < $deadline) {
        my $now = () = $t->backend_log =~ m{POST /contract/}g;
        return 1 if $now - $base >= $n;
        sleep 0.05;
    }
    return 0;
}

my $sim = $t->start_sim(devices => $N, sessions => $M, verify => $K,
                        concurrency => $N, retries => 200, retry_cap_ms => 300,
                        seed => 11, prefix => 'kill');
ok(wait_calls(3 * $N), 'the run is under way');

for my $round (1, 2) {
    $t->kill_backend;
    my $d = $t->device(id => "IMEI:probe-$round", user => 'u', pass => 'p',
                       register => 0);
    my $res = $d->post($d->package1(cred => undef));
    is($res->{status}, 503, "backend killed ($round): a device gets 503");
    is($res->{headers}{'retry-after'}, '1', "backend killed ($round): with Retry-After");
    sleep 1;
    $t->start_backend;
    ok(wait_calls(2 * $N), "backend restarted ($round): the run goes on");
}
ok($t->sim_running($sim), 'the faults all fell inside the run');

my $r = $t->wait_sim($sim, 150);
$t->check_sim($r, devices => $N, sessions => $M, verify => $K);
ok(OmadmTest::sim_status($r, 503) > 0,
   'the simulator met 503s (' . OmadmTest::sim_status($r, 503) . ') and retried them');
$t->check_error_log;
done_testing;

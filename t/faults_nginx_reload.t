#!/usr/bin/perl
# nginx -s reload three times and one worker killed with SIGKILL, in the
# middle of a fleet run: the master respawns the worker, sessions continue
# (their state is in the shared zone) or restart cleanly, and
# omadm-sim --verify finds every queued command done exactly once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use OmadmTest;

plan skip_all => "$OmadmTest::SIM not built" unless -x $OmadmTest::SIM;

my ($N, $M, $K) = (40, 20, 3);
my $t = OmadmTest->new(locations => { '/omadm' => { omadm_retry_after => 1 } })->start;

sub contract_calls { my $n = () = $t->backend_log =~ m{POST /contract/}g; $n }

sub wait_calls {
    my ($n) = @_;
    my ($base, $deadline) = (contract_calls(), time + 30);
    while (time < $deadline) {
        return 1 if contract_calls() - $base >= $n;
        sleep 0.05;
    }
    return 0;
}

# Open loop at a fixed rate: the run lasts about $M * $N / 30 s however
# fast the server is, so the faults below fall inside it.
my $sim = $t->start_sim(devices => $N, sessions => $M, verify => $K,
                        rate => 30, retries => 200, retry_cap_ms => 300,
                        seed => 12, prefix => 'reload', timeout_ms => 10000);
ok(wait_calls(2 * $N), 'the run is under way');

for my $i (1 .. 3) {
    $t->reload_nginx;
    ok(wait_calls($N), "reload $i: the run goes on");
}

# the workers of the current generation (the old ones may still be draining)
my $deadline = time + 10;
my @w;
while (time < $deadline) {
    @w = $t->nginx_workers;
    last if @w == 2;
    sleep 0.1;
}
is(scalar @w, 2, 'two workers after the reloads');
my $victim = $w[0];
kill 'KILL', $victim;
$deadline = time + 10;
my @after;
while (time < $deadline) {
    @after = $t->nginx_workers;
    last if @after == 2 && !grep { $_ == $victim } @after;
    sleep 0.05;
}
ok(@after == 2 && !grep({ $_ == $victim } @after),
   "worker $victim killed with SIGKILL: the master respawned it (@after)");
ok(wait_calls($N), 'after the kill the run goes on');
ok($t->sim_running($sim), 'the faults all fell inside the run');

my $r = $t->wait_sim($sim, 150);
$t->check_sim($r, devices => $N, sessions => $M, verify => $K);
# keep-alive connections closed by the old workers are reopened at once:
# no request waits for its timeout
is($r->{errors}{timeout} // 0, 0, 'no request timed out');
# a killed worker holding the zone's lock is reported when the master frees it
$t->check_error_log(qr/worker process $victim exited on signal 9|was locked by $victim/);
done_testing;

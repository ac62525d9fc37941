#!/usr/bin/perl
# More devices than the backend can take: 200 devices at once against a
# backend that takes 50 ms a call, with omadm_backend_limit 3 on two
# workers.  The module sheds the excess with 503 + Retry-After, the backend
# never has more than 2 x 3 calls in flight, the workers' memory stays
# bounded, every device still completes and omadm-sim --verify finds every
# command done exactly once; after the burst a small run sees no 503.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;

plan skip_all => "$OmadmTest::SIM not built" unless -x $OmadmTest::SIM;

my ($LIMIT, $WORKERS) = (3, 2);
my $t = OmadmTest->new(
    worker_processes => $WORKERS,
    locations => { '/omadm' => { omadm_backend_limit => $LIMIT,
                                 omadm_retry_after => 1 } },
);
my $proxy = $t->fault_proxy;
$t->set_backend('/omadm-backend/', $proxy);
$t->start;
$t->proxy_mode($proxy, delay => 0.05);

# warm the workers up a little, then take their memory
my $r = $t->run_sim(devices => 4, concurrency => 2, seed => 20, prefix => 'warm');
is($r->{exit}, 0, 'warm-up run') or diag($r->{stderr});
my %rss0 = map { $_ => OmadmTest::vm_rss($_) } $t->nginx_workers;

my ($N, $M, $K) = (200, 2, 1);
$r = $t->run_sim(devices => $N, sessions => $M, verify => $K, concurrency => $N,
                 retries => 500, retry_cap_ms => 200, seed => 21, prefix => 'burst');
$t->check_sim($r, devices => $N, sessions => $M, verify => $K, name => 'burst');
my $shed = OmadmTest::sim_status($r, 503);
ok($shed > 0, "burst: the module shed $shed messages with 503");
my $st = $t->proxy_stats($proxy);
ok($st->{max_in_flight} <= $LIMIT * $WORKERS,
   "burst: at most $LIMIT x $WORKERS backend calls in flight ($st->{max_in_flight})");
my $shed_logged = () = $t->access_log =~ /"POST \/omadm" 503 .*auth=undecided/g;
ok($shed_logged >= $shed * 0.9,
   "burst: the access log shows the shed messages ($shed_logged)");

for my $pid (sort keys %rss0) {
    my $rss = OmadmTest::vm_rss($pid);
    ok($rss && $rss - $rss0{$pid} < 32 * 1024,
       "worker $pid memory bounded: VmRSS $rss0{$pid} -> $rss kB");
}

# recovery: fewer devices than one worker's limit never meet a 503
$r = $t->run_sim(devices => $LIMIT, sessions => 2, verify => 1,
                 concurrency => $LIMIT, seed => 22, prefix => 'after');
$t->check_sim($r, devices => $LIMIT, sessions => 2, verify => 1,
              name => 'after the burst');
is(OmadmTest::sim_status($r, 503), 0, 'after the burst: no 503');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# A session zone full of sessions (what every busy node's zone is: records
# stay for their ttl) still takes new logins: each login counts its attempt
# in a failure counter before the backend is asked, and the counter's put
# evicts the least recently used sessions for room.  The counter is
# smaller than a session's record; were it of another slab class, evicting
# sessions would free no chunk it could use (a page changes class only
# when all of it is free) and the login would be refused with 503.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;

plan skip_all => "$OmadmTest::SIM not built" unless -x $OmadmTest::SIM;

# 128 KiB of zone holds a few hundred sessions; the fleet is four times that
my $N = 1200;
my $t = OmadmTest->new(session_zone => 'zone=omadm:128k ttl=5m',
    server_conf => "        location = /status { omadm_status; allow 127.0.0.1; deny all; }\n",
)->start;

my $sim = $t->start_sim(devices => $N, sessions => 1, concurrency => 20,
                        retries => 20, seed => 21, prefix => 'full');
my $r = $t->wait_sim($sim, 240);
$t->check_sim($r, devices => $N, sessions => 1);
is(OmadmTest::sim_status($r, 503), 0, 'no login refused with 503 in the full zone')
    or diag(explain $r->{http_status});
my $log = OmadmTest::_slurp($t->dir . '/error.log');
like($log, qr/omadm_session_zone "omadm" is full, evicting/, 'the zone did fill (sessions evicted)');
unlike($log, qr/failed authentications cannot be counted/, 'every attempt was counted');

# omadm_status saw it too (t/status.t checks the format with a real parser)
my $page = $t->https->get($t->device_url('/status'))->{content};
my %v = $page =~ /^(omadm_sessions\w*)\{zone="omadm"\} (\d+)$/mg;
is($v{omadm_sessions_started_total}, $N, "omadm_status: $N sessions started");
ok($v{omadm_sessions_evicted_total} > 0, "omadm_status: $v{omadm_sessions_evicted_total} evicted");
is($v{omadm_sessions_expired_total}, 0, 'omadm_status: none expired (ttl 5m)');
is($v{omadm_sessions} + $v{omadm_sessions_evicted_total}, $N,
   "omadm_status: the $v{omadm_sessions} in the zone are those not evicted");
done_testing;

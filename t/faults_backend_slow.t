#!/usr/bin/perl
# A backend that answers late (past proxy_read_timeout: after doing the
# work, and before it), and one that answers 500 and 502 for a while, in
# the middle of a fleet run: devices get 503 with Retry-After and retry,
# and omadm-sim --verify still finds every queued command done exactly
# once: work the backend did for an answer nginx gave up on is neither
# lost nor recorded twice when the device resends.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use OmadmTest;

plan skip_all => "$OmadmTest::SIM not built" unless -x $OmadmTest::SIM;

my ($N, $M, $K) = (30, 5, 3);
my $t = OmadmTest->new(locations => { '/omadm' => { omadm_retry_after => 1 } });
my $proxy = $t->fault_proxy;
$t->set_backend('/omadm-backend/', { port => $proxy, proxy_read_timeout => '1s' });
$t->start;

sub wait_requests {
    my ($n) = @_;
    my ($base, $deadline) = ($t->proxy_stats($proxy)->{requests}, time + 30);
    while (time < $deadline) {
        return 1 if $t->proxy_stats($proxy)->{requests} - $base >= $n;
        sleep 0.05;
    }
    return 0;
}

my $sim = $t->start_sim(devices => $N, sessions => $M, verify => $K,
                        concurrency => $N, retries => 300, retry_cap_ms => 300,
                        seed => 13, prefix => 'slow');
ok(wait_requests(2 * $N), 'the run is under way');

my @phases = (
    [ 'answers after the timeout, work done',     delay_answer => 1.5 ],
    [ 'answers 500',                              status => 500 ],
    [ 'takes the request after the timeout',      delay => 1.5 ],
    [ 'answers 502',                              status => 502 ],
);
for my $p (@phases) {
    my ($what, %mode) = @$p;
    $t->proxy_mode($proxy, %mode);
    ok(wait_requests($N), "backend $what: requests keep coming");
    sleep 1;
    $t->proxy_mode($proxy);
    ok(wait_requests($N), "backend healthy again after it $what");
}

my $r = $t->wait_sim($sim, 150);
$t->check_sim($r, devices => $N, sessions => $M, verify => $K);
ok(OmadmTest::sim_status($r, 503) > 0,
   'the simulator met 503s (' . OmadmTest::sim_status($r, 503) . ') and retried them');
my @late = grep { /^- (500|502)$/ } $t->proxy_log($proxy);
ok(@late > 0, 'the fault proxy did answer 5xx (' . scalar(@late) . ')');

# Each session start whose answer is lost after the backend rotated the
# nonce costs the device one 401 (its digest used the replaced nonce).  That
# 401 is "stale", not a failed authentication: twelve of them in a row must
# not reach omadm_auth_failures (5 in 60 s) and lock an honest device out.
use OmadmTest::Device;
sub code { my ($res) = @_; return "HTTP $res->{status}" unless $res->{syncml};
    return (OmadmTest::Device::hdr_status($res->{syncml}) // {})->{Data} // '?' }
my $d = $t->device(id => 'IMEI:honest', user => 'u', pass => 'right');
$d->post($d->package1(cred => undef));
$t->proxy_mode($proxy, delay_answer => 1.5, only => 'exchange');
my @seen;
for (1 .. 12) { $d->new_session; push @seen, code($d->post($d->package1)) }
$t->proxy_mode($proxy);
$d->new_session;
my $after = code($d->post($d->package1));
is($after, '212', 'lost session-start answers do not lock an honest device out')
    or diag("during the incident: @seen");
ok(grep({ $_ eq '401' } @seen), 'the incident made the device meet 401s')
    or diag("during the incident: @seen");
$t->access_log_like(qr/dev=IMEI:honest .*auth=stale/,
                    'they were stale nonces, not failed authentications');
$t->check_error_log;
done_testing;

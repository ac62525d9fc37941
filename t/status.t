#!/usr/bin/perl
# omadm_status against real nginx and omadm-backend: the answer is
# Prometheus text (parsed by Python's prometheus_client, an independent
# parser), every family has its type and labels, one MD5 session and a few
# refused messages move the counters by exactly what they did (the backend
# calls checked against the backend's own request log), the operator-only
# location refuses other addresses, `nginx -s reload` keeps the counts, and
# with the backend stopped a message counts as unavailable, its call failed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use OmadmTest;
use OmadmTest::Device;

my $PYTHON = '/usr/bin/python3';    # Debian's, with python3-prometheus-client
plan skip_all => 'python3-prometheus-client not installed'
    unless system($PYTHON, '-c', 'import prometheus_client.parser') == 0;

my $t = OmadmTest->new(
    http_conf => "    omadm_node_id node-a;\n",
    server_conf => "        location = /status {\n"
        . "            omadm_status;\n"
        . "            allow 127.0.0.1;\n"
        . "            deny all;\n"
        . "        }\n",
)->start;
my $http = $t->https;
my $status_url = $t->device_url('/status');

# the status page as prometheus_client reads it:
# { family => { type => ..., samples => { 'name{k="v",...}' => value } } }
sub scrape {
    my $res = $http->get($status_url);
    die "status: $res->{status} $res->{content}\n" unless $res->{status} == 200;
    my $file = $t->dir . '/scrape.txt';
    OmadmTest::_write($file, $res->{content});
    my $py = <<'EOF';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    out[f.name] = {"type": f.type, "samples": {
        s.name + "{" + ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        + "}": s.value for s in f.samples}}
print(json.dumps(out))
EOF
    open my $fh, '-|', $PYTHON, '-c', $py, $file or die "python3: $!\n";
    local $/;
    my $json = <$fh>;
    close $fh;
    die "prometheus_client could not parse the status page\n" if $?;
    return (decode_json($json), $res);
}

# nginx counts a request once it logs it, just after the client has its
# answer: scrape again (for 3s at most) until $ready says it is there
sub scrape_until {
    my ($ready) = @_;
    my $deadline = time + 3;
    for (;;) {
        my ($m) = scrape();
        return $m if $ready->($m) || time > $deadline;
        sleep 0.1;
    }
}

sub messages_total {
    my ($m) = @_;
    my $n = 0;
    $n += $_ for values %{ $m->{omadm_messages}{samples} };
    return $n;
}

# one sample's value: family, name suffix, extra labels (node and zone added)
sub value {
    my ($m, $family, $name, %l) = @_;
    my %labels = (node => 'node-a', zone => 'omadm', %l);
    my $key = $name . '{' . join(',', map { qq{$_="$labels{$_}"} } sort keys %labels) . '}';
    my $v = $m->{$family} && $m->{$family}{samples}{$key};
    return $v // die "no sample $key\n";
}

my ($m, $res) = scrape();
like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'Content-Type of the text exposition format 0.0.4');
like($res->{content}, qr/^# HELP omadm_messages_total .+\n# TYPE omadm_messages_total counter\n/m,
     'HELP and TYPE lines');

my %types = (
    omadm_messages => 'counter', omadm_auth => 'counter',
    omadm_backend_requests => 'counter',
    omadm_backend_request_duration_seconds => 'histogram',
    omadm_sessions_started => 'counter', omadm_sessions_evicted => 'counter',
    omadm_sessions_expired => 'counter', omadm_sessions => 'gauge',
    omadm_zone_used_bytes => 'gauge', omadm_zone_free_bytes => 'gauge',
);
is_deeply({ map { $_ => $m->{$_}{type} } keys %$m }, \%types,
          'the families and their types');
my @unlabelled = grep { !/node="node-a"/ || !/zone="omadm"/ }
                 map { keys %{ $_->{samples} } } values %$m;
ok(!@unlabelled, 'every sample has node="node-a" and zone="omadm"')
    or diag("@unlabelled");
like($res->{content}, qr/^omadm_backend_request_duration_seconds_bucket\{node="node-a",zone="omadm",call="auth",le="\+Inf"\} \d+$/m,
     'histogram buckets end with le="+Inf"');
ok(value($m, 'omadm_zone_free_bytes', 'omadm_zone_free_bytes') > 0
   && value($m, 'omadm_zone_used_bytes', 'omadm_zone_used_bytes') > 0,
   'zone bytes used and free');
is(value($m, 'omadm_sessions', 'omadm_sessions'), 0, 'no session yet');

# --- one MD5 session, as t/session_md5.t, and its counts ----------------

my %calls_before = map { $_ => $t->backend_calls($_) } qw(nonce auth exchange);
my $before = $m;

my $id = 'IMEI:490154203237519';
my $d = $t->device(id => $id, user => 'dev1', pass => 'secret', session => '42');
$t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
my $r = $d->post($d->package1(cred => undef))->{syncml};
is(OmadmTest::Device::hdr_status($r)->{Data}, '407', 'package 1 without Cred: 407');
$r = $d->post($d->package1(cred => 'md5'))->{syncml};
is(OmadmTest::Device::hdr_status($r)->{Data}, '212', 'with the MD5 Cred: 212');
my $answer = $d->post($d->answer($r, tree => { './DevDetail/SwV' => '4.2.1' }));
is($answer->{status}, 200, 'Results: 200');
my $again = $d->resend;
is($again->{content}, $answer->{content}, 'the lost answer resent as it was');

# refused before any exchange, by nginx or the handler
is($http->get($t->device_url)->{status}, 405, 'GET on the endpoint: 405');
is($http->post($t->device_url, { headers => { 'Content-Type' => 'text/plain' },
    content => 'x' })->{status}, 415, 'text/plain: 415');
is($http->post($t->device_url, { headers => {
    'Content-Type' => 'application/vnd.syncml.dm+xml' }, content => '<SyncML' })->{status},
   400, 'bad XML: 400');
is($http->post($t->device_url, { headers => {
    'Content-Type' => 'application/vnd.syncml.dm+xml' },
    content => 'x' x (1024 * 1024 + 1) })->{status}, 413, 'over 1m: 413');

my %calls = map { $_ => $t->backend_calls($_) - $calls_before{$_} } qw(nonce auth exchange);
ok($calls{exchange} >= 2, "the session made $calls{exchange} exchange calls");

my $total = messages_total($before) + 9;
$m = scrape_until(sub { messages_total($_[0]) >= $total });

my %moved = (
    answered => 2, resent => 1, challenged => 1, refused => 0,
    bad_request => 1, too_large => 1, unsupported_media => 1, bad_method => 1,
    shed => 0, unavailable => 0, error => 0, aborted => 0, other => 0,
);
for my $o (sort keys %moved) {
    is(value($m, 'omadm_messages', 'omadm_messages_total', outcome => $o)
       - value($before, 'omadm_messages', 'omadm_messages_total', outcome => $o),
       $moved{$o}, "messages: outcome=\"$o\" moved by $moved{$o}");
}

my %auth = ('challenged/none' => 1, 'accepted/md5' => 1);
for my $result (qw(accepted challenged refused stale throttled undecided)) {
    for my $scheme (qw(none basic md5 hmac)) {
        my $want = $auth{"$result/$scheme"} // 0;
        is(value($m, 'omadm_auth', 'omadm_auth_total', result => $result, scheme => $scheme)
           - value($before, 'omadm_auth', 'omadm_auth_total', result => $result, scheme => $scheme),
           $want, "auth: $result/$scheme moved by $want");
    }
}

for my $call (qw(nonce auth exchange)) {
    is(value($m, 'omadm_backend_requests', 'omadm_backend_requests_total', call => $call, result => 'ok')
       - value($before, 'omadm_backend_requests', 'omadm_backend_requests_total', call => $call, result => 'ok'),
       $calls{$call}, "backend: call=\"$call\" ok as often as the backend logged it ($calls{$call})");
    is(value($m, 'omadm_backend_request_duration_seconds',
             'omadm_backend_request_duration_seconds_count', call => $call)
       - value($before, 'omadm_backend_request_duration_seconds',
             'omadm_backend_request_duration_seconds_count', call => $call),
       $calls{$call}, "backend latency: call=\"$call\" counted $calls{$call} times");
    is(value($m, 'omadm_backend_request_duration_seconds',
             'omadm_backend_request_duration_seconds_bucket', call => $call, le => '+Inf'),
       value($m, 'omadm_backend_request_duration_seconds',
             'omadm_backend_request_duration_seconds_count', call => $call),
       "backend latency: call=\"$call\" +Inf bucket is the count");
}
for my $result (qw(http_error failed)) {
    is(value($m, 'omadm_backend_requests', 'omadm_backend_requests_total', call => $_, result => $result),
       0, "backend: no $_ $result") for qw(nonce auth exchange);
}
is(value($m, 'omadm_sessions_started', 'omadm_sessions_started_total'), 1, 'one session started');
is(value($m, 'omadm_sessions', 'omadm_sessions'), 1, 'its record is in the zone');
is(value($m, 'omadm_sessions_evicted', 'omadm_sessions_evicted_total'), 0, 'none evicted');

# --- who may read it -----------------------------------------------------

my $other = $t->https(local_address => '127.0.0.2');
is($other->get($status_url)->{status}, 403, 'another address (127.0.0.2): 403');
is($http->post($status_url, { content => 'x' })->{status}, 405, 'POST: 405');

# --- reload: the counts are kept ----------------------------------------

my ($kept) = scrape();
my $pid = $t->nginx_pid;
$t->reload_nginx;
is($t->nginx_pid, $pid, 'the same master after the reload');
my ($after) = scrape();
my @lost;
for my $f (grep { $after->{$_}{type} ne 'gauge' } sort keys %$after) {
    for my $s (sort keys %{ $after->{$f}{samples} }) {
        push @lost, $s if $after->{$f}{samples}{$s} != ($kept->{$f}{samples}{$s} // -1);
    }
}
ok(!@lost, 'every counter is what it was before the reload') or diag("@lost");
is(value($after, 'omadm_sessions', 'omadm_sessions'), 1, 'and the session is still there');

# the new workers add to the same counts
is($http->get($t->device_url)->{status}, 405, 'GET after the reload: 405');
my $was = value($kept, 'omadm_messages', 'omadm_messages_total', outcome => 'bad_method');
$after = scrape_until(sub { value($_[0], 'omadm_messages',
    'omadm_messages_total', outcome => 'bad_method') > $was });
is(value($after, 'omadm_messages', 'omadm_messages_total', outcome => 'bad_method'),
   $was + 1, 'a message after the reload adds one to the kept count');

# --- the backend gone: the message unavailable, the call failed ---------

my $orphan = $t->device(id => 'IMEI:490154203237527', user => 'dev2',
                        pass => 'secret', session => '43');
my ($up) = scrape();
$t->stop_backend;
is($orphan->post($orphan->package1(cred => undef))->{status}, 503,
   'the backend stopped: 503');
sub unavailable { value($_[0], 'omadm_messages', 'omadm_messages_total', outcome => 'unavailable') }
my $down = scrape_until(sub { unavailable($_[0]) > unavailable($up) });
is(unavailable($down) - unavailable($up), 1, 'messages: outcome="unavailable" moved by 1');
my $failed = 0;
for my $call (qw(nonce auth exchange)) {
    $failed += value($down, 'omadm_backend_requests', 'omadm_backend_requests_total',
                     call => $call, result => 'failed')
             - value($up, 'omadm_backend_requests', 'omadm_backend_requests_total',
                     call => $call, result => 'failed');
}
is($failed, 1, 'backend: one call failed (no answer)');

$t->check_error_log;

done_testing;

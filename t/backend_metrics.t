#!/usr/bin/perl
#
# GET /metrics of omadm-backend (docs/backend-api.md, "Metrics"): the real
# backend, with the contract on a unix socket of its own, scraped over HTTP
# and parsed by an independent parser (Python's prometheus_client).  Known
# calls must move the counters by exactly their number; random paths must
# not add a series; without a token there is nothing to read.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use OmadmTest;
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Socket::UNIX;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

# Debian's python3-prometheus-client is for Debian's python3, which a
# python3 earlier on PATH (pyenv) may not be.
my ($PYTHON) = grep { system("$_ -c 'import prometheus_client.parser' 2>/dev/null") == 0 }
                    '/usr/bin/python3', 'python3';
plan skip_all => 'python3 with prometheus_client (python3-prometheus-client) needed'
    unless $PYTHON;

my $t = OmadmTest->new(contract_socket => 1);
my $viewer = 'viewer-' . join('', map { int rand 10 } 1 .. 16);
my $vfile = $t->dir . '/viewer.token';
open my $vf, '>', $vfile or die "$vfile: $!";
print $vf "$viewer\n";
close $vf;
$t->{backend_args} = [ '--viewer-token-file', $vfile ];
$t->start_backend;

my $base = 'http://127.0.0.1:' . $t->api_port;
(my $contract_sock = $t->contract_upstream) =~ s/^unix://;
my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);

sub scrape {
    my ($token) = @_;
    return $http->get("$base/metrics",
        { headers => { defined $token ? (Authorization => "Bearer $token") : () } });
}

# The exposition text as the Python client library reads it:
# { name => { type, help, samples => [[name, {labels}, value], ...] } }
my $PARSER = <<'PY';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    out[f.name] = {"type": f.type, "help": f.documentation,
                   "samples": [[s.name, s.labels, s.value] for s in f.samples]}
print(json.dumps(out))
PY

sub parse {
    my ($text) = @_;
    my $file = $t->dir . '/metrics.txt';
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
    open my $py, '-|', $PYTHON, '-c', $PARSER, $file or die "python3: $!";
    my $json = do { local $/; <$py> };
    close $py or die "the parser refused the text (exit $?)\n";
    return decode_json($json);
}

sub metrics {
    my $r = scrape($t->{token});
    die "GET /metrics: $r->{status}\n" unless $r->{status} == 200;
    return parse($r->{content});
}

sub label_key { my ($l) = @_; join ',', map { "$_=$l->{$_}" } sort keys %$l }

# value($m, 'omadm_backend_x_total', {labels}): 0 for a series not there.
sub value {
    my ($m, $name, $labels) = @_;
    my $want = label_key($labels // {});
    for my $f (values %$m) {
        for my $s (@{ $f->{samples} }) {
            return $s->[2] if $s->[0] eq $name && label_key($s->[1]) eq $want;
        }
    }
    return 0;
}

sub series {
    my ($m) = @_;
    return sort map { my $f = $_; map { "$_->[0]\{" . label_key($_->[1]) . '}' }
                                      @{ $f->{samples} } } values %$m;
}

sub requests {
    my ($m, $method, $route, $code) = @_;
    return value($m, 'omadm_backend_http_requests_total',
                 { method => $method, route => $route, code => $code });
}

sub latency_count {
    my ($m, $method, $route) = @_;
    return value($m, 'omadm_backend_http_request_duration_seconds_count',
                 { method => $method, route => $route });
}

sub total_requests {
    my ($m) = @_;
    my $n = 0;
    $n += $_->[2] for @{ $m->{omadm_backend_http_requests}{samples} };
    return $n;
}

# A contract call on the unix socket: the status.
sub contract_call {
    my ($op, $body, $key) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $contract_sock)
        or die "$contract_sock: $!";
    my $json = encode_json($body);
    print $s "POST /contract/$op HTTP/1.1\r\nHost: backend\r\n"
        . "X-Omadm-Key: $key\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($json) . "\r\nConnection: close\r\n\r\n$json";
    my $answer = do { local $/; <$s> };
    close $s;
    return $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
}

sub wait_for {
    my ($what, $ok) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        return 1 if $ok->();
        sleep 0.05;
    }
    diag("gave up waiting for $what");
    return 0;
}

# --- access ---------------------------------------------------------------

my $r = scrape();
is($r->{status}, 401, 'no token: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer', '... with WWW-Authenticate: Bearer');
unlike($r->{content}, qr/omadm_backend_/, '... and no metric');
$r = scrape('wrong-' . $viewer);
is($r->{status}, 401, 'a wrong token: 401');
$r = scrape($viewer);
is($r->{status}, 200, 'the viewer token may read it');
$r = scrape($t->{token});
is($r->{status}, 200, 'the operator token may read it');
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4\b},
     'Content-Type: text/plain; version=0.0.4');
is($http->post("$base/metrics", { headers => { Authorization => "Bearer $t->{token}" } })
       ->{status}, 404, 'POST /metrics: 404');

# --- names and types --------------------------------------------------------

my $m = parse($r->{content});
my %types = (
    omadm_backend_http_requests                  => 'counter',
    omadm_backend_http_request_duration_seconds  => 'histogram',
    omadm_backend_db_errors                      => 'counter',
    omadm_backend_db_write_queue_depth           => 'gauge',
    omadm_backend_db_commits                     => 'counter',
    omadm_backend_db_write_calls                 => 'counter',
    omadm_backend_db_readers_busy                => 'gauge',
    omadm_backend_db_reader_waits                => 'counter',
    omadm_backend_open_connections               => 'gauge',
    omadm_backend_refused_connections            => 'counter',
    omadm_backend_start_time_seconds             => 'gauge',
);
for my $name (sort keys %types) {
    is($m->{$name}{type}, $types{$name}, "$name: $types{$name}");
}
is_deeply([ grep { !/^omadm_backend_/ } keys %$m ], [], 'every name has the prefix');
is_deeply([ grep { !length $m->{$_}{help} } keys %$m ], [], 'every family has a HELP');
my @bad_counters = grep { !/_total$/ } map { $_->[0] }
    map { @{ $m->{$_}{samples} } } grep { $m->{$_}{type} eq 'counter' } keys %$m;
is_deeply(\@bad_counters, [], 'every counter sample ends in _total');
is_deeply([ sort map { $_->[1]{kind} } @{ $m->{omadm_backend_db_errors}{samples} } ],
          [qw(busy constraint io other)], 'database errors by kind, all four');
my $start = value($m, 'omadm_backend_start_time_seconds');
ok($start > time - 600 && $start <= time, 'start time: a moment ago');
is(value($m, 'omadm_backend_db_write_queue_depth'), 0, 'nothing queued for the writer');
my @le = map { $_->[1]{le} } grep { $_->[0] =~ /_bucket$/ && $_->[1]{route} eq '/metrics' }
    @{ $m->{omadm_backend_http_request_duration_seconds}{samples} };
is_deeply(\@le, [qw(0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1.0 2.5 5.0
                    10.0 +Inf)], 'latency buckets from 0.5 ms to 10 s');

# --- known calls move the counters by exactly their number ------------------

my $before = metrics();
for my $i (1 .. 3) {
    my ($st) = $t->api(POST => '/devices',
        { device_id => "IMEI:10000000000000$i", username => "u$i", password => "p$i" });
    is($st, 201, "registration $i: 201");
}
is(($t->api(GET => '/devices/IMEI%3Anobody'))[0], 404, 'an unknown device: 404');
is(($t->api(GET => '/no/such/path'))[0], 404, 'an unknown path: 404');
is(contract_call('exchange', { device_id => 'IMEI:100000000000001', session_id => '1',
                               msg_id => '1', session_start => JSON::PP::true,
                               max_commands => 50 }, $t->{key}),
   200, 'a contract exchange on the unix socket: 200');
is(contract_call('exchange', { device_id => 'IMEI:100000000000001' }, 'wrong'),
   401, 'one with a wrong key: 401');
my $after = metrics();

my %moved = (
    'POST /api/v1/devices 201'      => 3,
    'GET /api/v1/devices/{id} 404'  => 1,
    'other other 404'               => 1,
    'POST /contract/exchange 200'   => 1,
    'POST /contract/exchange 401'   => 1,
    'GET /metrics 200'              => 1,    # the scrape of $before
);
for my $k (sort keys %moved) {
    is(requests($after, split / /, $k) - requests($before, split / /, $k),
       $moved{$k}, "requests $k: +$moved{$k}");
}
is(total_requests($after) - total_requests($before), 8, 'nothing else counted');
is(latency_count($after, 'POST', '/api/v1/devices')
       - latency_count($before, 'POST', '/api/v1/devices'), 3,
   'latency of POST /api/v1/devices: 3 more observed');
is(value($after, 'omadm_backend_http_request_duration_seconds_bucket',
         { method => 'POST', route => '/contract/exchange', le => '+Inf' })
       - value($before, 'omadm_backend_http_request_duration_seconds_bucket',
               { method => 'POST', route => '/contract/exchange', le => '+Inf' }),
   2, 'latency of the exchanges: 2 more in +Inf');
ok(value($after, 'omadm_backend_http_request_duration_seconds_sum',
         { method => 'POST', route => '/api/v1/devices' })
       > value($before, 'omadm_backend_http_request_duration_seconds_sum',
               { method => 'POST', route => '/api/v1/devices' }),
   '... and their sum grew');
my $calls = value($after, 'omadm_backend_db_write_calls_total')
    - value($before, 'omadm_backend_db_write_calls_total');
my $commits = value($after, 'omadm_backend_db_commits_total')
    - value($before, 'omadm_backend_db_commits_total');
is($calls, 4, 'write calls: the 3 registrations and the exchange');
ok($commits >= 1 && $commits <= $calls, "commits: $commits, at most one a call");
is(value($after, "omadm_backend_db_errors_total", { kind => $_ }), 0, "no $_ error")
    for qw(busy constraint io other);

# --- random paths add no series --------------------------------------------

my @random = map { join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 24 } 1 .. 31;
# A random method too, which httplib answers 400.
sub raw_status {
    my ($request) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->api_port)
        or die "connect: $!";
    print $s $request;
    my $line = <$s> // '';
    close $s;
    return $line =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
}
my $visit = sub {
    my ($x) = @_;
    $t->api(GET => "/$x");
    $t->api(GET => "/devices/$x/commands/$x");
    $http->get("$base/$x/$x");
    $http->get("$base/console/$x");
    # The request line alone: httplib answers it 400 and keeps the
    # connection, reading whatever follows as a request of its own.
    raw_status(uc($x) . " /$x HTTP/1.1\r\n");
};
$visit->(shift @random);    # so that each series exists before
$before = metrics();
$visit->($_) for @random;
$after = metrics();
is_deeply([ series($after) ], [ series($before) ],
          '150 requests to random paths with random methods: no new series');
is(requests($after, 'other', 'other', 400) - requests($before, 'other', 'other', 400),
   30, '... the random methods counted as route "other", 400');
is(requests($after, 'other', 'other', 404) - requests($before, 'other', 'other', 404),
   90, '... the unknown ones counted as route "other"');
is(requests($after, 'GET', '/api/v1/devices/{id}/commands/{id}', 404)
       - requests($before, 'GET', '/api/v1/devices/{id}/commands/{id}', 404),
   30, '... the unknown device ids under their route pattern');
my $text = scrape($t->{token})->{content};
is_deeply([ grep { index($text, $_) >= 0 } @random ], [], '... no path text in the labels');

# --- open connections -------------------------------------------------------

my $open = sub { value(metrics(), 'omadm_backend_open_connections') };
my @idle = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->api_port)
                     or die "connect: $!" } 1 .. 3;
ok(wait_for('4 open connections', sub { $open->() == 4 }),
   'open connections: 3 idle ones and the scrape');
close $_ for @idle;
ok(wait_for('1 open connection', sub { $open->() == 1 }), '... then the scrape alone');

# --- a database error -------------------------------------------------------
# Another connection holds the write lock past the backend's busy_timeout
# (5 s): the registration fails with 500 and one busy error is counted.

my $db = $t->dir . '/omadm.db';
my $locked = $t->dir . '/locked';
my $holder = open my $lock, '|-', $PYTHON, '-c', <<'PY', $db, $locked or die "python3: $!";
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
sys.stdin.read()
c.execute("ROLLBACK")
PY
ok(wait_for('the lock', sub { -e $locked }), 'another connection holds the write lock');
$before = metrics();
is(($t->api(POST => '/devices', { device_id => 'IMEI:2', username => 'u', password => 'p' }))[0],
   500, 'a registration meanwhile: 500');
close $lock;    # the holder reads EOF, rolls back and exits (close waits for it)
$after = metrics();
is(value($after, 'omadm_backend_db_errors_total', { kind => 'busy' })
       - value($before, 'omadm_backend_db_errors_total', { kind => 'busy' }),
   1, 'db errors: busy +1');
is(value($after, 'omadm_backend_db_errors_total', { kind => $_ }), 0, "... no $_ error")
    for qw(constraint io other);
is(requests($after, 'POST', '/api/v1/devices', 500), 1, '... and the 500 counted');
is(($t->api(POST => '/devices', { device_id => 'IMEI:2', username => 'u', password => 'p' }))[0],
   201, 'after the lock: 201');

$t->stop_backend;
unlike($t->backend_log, qr/\b(?:alert|crit|emerg)\b/, 'backend log: no alert');
done_testing;

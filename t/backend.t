#!/usr/bin/perl
#
# omadm-backend on its own: the operator API and the module<->backend
# contract (docs/backend-api.md), against the real binary with a temporary
# SQLite database (OMADM_TEST_DATABASE=postgresql: a private PostgreSQL's) on
# a free loopback port.  Every process is started here and stopped here by
# PID.  OMADM_BACKEND_BIN overrides build/omadm-backend.

use strict;
use warnings;
use Digest::MD5 qw(md5_base64);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use OmadmTest::Postgres;

my $BIN = $ENV{OMADM_BACKEND_BIN} || 'build/omadm-backend';
plan skip_all => "$BIN not built (run make)" unless -x $BIN;

my $TOKEN = 'operator-token-' . join('', map { int rand 10 } 1 .. 12);
my $KEY   = 'contract-key-' . join('', map { int rand 10 } 1 .. 12);
my $PASS  = 'pass-' . join('', map { int rand 10 } 1 .. 12);

my $dir = tempdir('omadm-backend-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $pg = OmadmTest::Postgres::enabled() ? OmadmTest::Postgres->new("$dir/pg") : undef;
chmod 0755, $dir if $pg;    # PostgreSQL runs as nobody under root
my $db  = $pg ? $pg->url : "$dir/omadm.db";
my $log = "$dir/backend.log";
write_file("$dir/token", "$TOKEN\n");
write_file("$dir/key",   "$KEY\n");
write_file("$dir/empty", "\n");

my $json = JSON::PP->new->canonical;
# No keep-alive: HTTP::Tiny writes a body apart from its headers, and on a
# reused connection Nagle's algorithm then holds the body back for the
# server's delayed ACK (40 ms a request).  A fresh connection per request also
# lets SIGTERM stop the server without waiting out an idle connection.
my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
my ($pid, $port, $base);

END { stop_backend() if $pid; $pg->stop if $pg }
$SIG{INT} = $SIG{TERM} = sub { exit 130 };

# ---------------------------------------------------------------------------

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Runs the backend to completion (it is expected to refuse to start) and
# returns its exit code.
sub run_refused {
    my (%env) = @_;
    my @args = ('--listen', '127.0.0.1:' . free_port(), '--db', "$dir/x.db",
                @{ delete $env{args} });
    my $child = fork // die $!;
    if (!$child) {
        delete @ENV{qw(OMADM_ADMIN_TOKEN OMADM_CONTRACT_KEY)};
        @ENV{ keys %env } = values %env;
        open STDERR, '>>', $log or die $!;
        exec $BIN, @args or exit 127;
    }
    my $waited = 0;
    while (waitpid($child, WNOHANG) == 0) {
        if ($waited++ > 100) { kill 'KILL', $child; waitpid $child, 0; return -1 }
        sleep 0.05;
    }
    return $? >> 8;
}

sub start_backend {
    $port = free_port();
    $base = "http://127.0.0.1:$port";
    $pid = fork // die $!;
    if (!$pid) {
        delete @ENV{qw(OMADM_ADMIN_TOKEN OMADM_CONTRACT_KEY)};
        open STDERR, '>>', $log or die $!;
        exec $BIN, '--listen', "127.0.0.1:$port", '--db', $db,
            '--token-file', "$dir/token", '--key-file', "$dir/key",
            '--threads', 4
            or exit 127;
    }
    for (1 .. 200) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        die "omadm-backend exited early:\n" . read_file($log)
            if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    die "omadm-backend did not listen on $port";
}

# SIGTERM, then wait: returns the exit code (0 for a clean stop).
sub stop_backend {
    return unless $pid;
    kill 'TERM', $pid;
    my $code = -1;
    for (1 .. 200) {
        if (waitpid($pid, WNOHANG) == $pid) { $code = $? >> 8; last }
        sleep 0.05;
    }
    if ($code < 0) { kill 'KILL', $pid; waitpid $pid, 0 }
    undef $pid;
    return $code;
}

sub enc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# request(METHOD, path, body (ref or raw string or undef), headers) ->
# (status, decoded body or raw content, response)
sub request {
    my ($method, $path, $body, $headers) = @_;
    my %o = (headers => { %{ $headers || {} } });
    if (defined $body) {
        $o{content} = ref $body ? $json->encode($body) : $body;
        $o{headers}{'Content-Type'} = 'application/json';
    }
    my $r = $http->request($method, "$base$path", \%o);
    my $data = $r->{content};
    if (length($data // '')
        && ($r->{headers}{'content-type'} // '') =~ m{application/json}) {
        $data = eval { $json->decode($data) } // $data;
    }
    return ($r->{status}, $data, $r);
}

sub api {
    my ($method, $path, $body) = @_;
    return request($method, "/api/v1$path", $body,
                   { Authorization => "Bearer $TOKEN" });
}

sub contract {
    my ($op, $body) = @_;
    return request('POST', "/contract/$op", $body, { 'X-Omadm-Key' => $KEY });
}

sub exchange {
    my (%o) = @_;
    return contract('exchange', {
        device_id => 'IMEI:490154203237518', max_commands => 50, %o });
}

sub command_ids { [ map { $_->{id} } @{ $_[0]{commands} } ] }

# ---------------------------------------------------------------------------
# Refusing to start without its secrets (exit 2, a clear message).

is(run_refused(args => ['--key-file', "$dir/key"]), 2, 'no token: exit 2');
is(run_refused(args => ['--token-file', "$dir/empty", '--key-file', "$dir/key"]),
   2, 'empty token file: exit 2');
is(run_refused(args => ['--token-file', "$dir/token"]), 2, 'no key: exit 2');
is(run_refused(args => ['--token-file', "$dir/token",
                        '--key-file', "$dir/missing"]),
   2, 'unreadable key file: exit 2');
is(run_refused(args => ['--bogus', 'x']), 2, 'unknown option: exit 2');
like(read_file($log), qr/no operator token/, 'message names the missing secret');

# The listeners and connection limits (t/backend_slow_clients.t runs them).
my @secrets = ('--token-file', "$dir/token", '--key-file', "$dir/key");
for my $bad ([ '--header-timeout', 0 ], [ '--body-timeout', 'x' ],
             [ '--max-client-connections', -1 ], [ '--threads', 1025 ],
             [ '--contract-listen', 'unix:' ], [ '--contract-listen', '127.0.0.1' ]) {
    is(run_refused(args => [ @secrets, @$bad ]), 2, "@$bad: usage error, exit 2");
}
like(read_file($log), qr/--contract-listen wants HOST:PORT or unix:PATH/,
     '... with a message');
write_file("$dir/not-a-socket", "x\n");
is(run_refused(args => [ @secrets, '--contract-listen', "unix:$dir/not-a-socket" ]), 1,
   'a contract socket path that is a file: exit 1');
like(read_file($log), qr/not-a-socket: exists and is not a socket/, '... and says so');
is(read_file("$dir/not-a-socket"), "x\n", '... the file is left alone');
is(run_refused(args => [ @secrets, '--contract-listen', "unix:$dir/no/such/dir.sock" ]), 1,
   'a contract socket in a missing directory: exit 1');
{
    my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                     Listen => 1) or die $!;
    is(run_refused(args => [ @secrets, '--listen', "unix:$dir/api.sock",
                             '--contract-listen', '127.0.0.1:' . $busy->sockport ]),
       1, 'the contract port taken: exit 1');
    ok(!-e "$dir/api.sock", '... and the socket it had opened is removed again');
}
{
    # a socket file left by a backend that was killed: replaced
    my $stale = "$dir/stale.sock";
    IO::Socket::UNIX->new(Local => $stale, Listen => 1) or die "$stale: $!";
    my $child = fork // die $!;
    if (!$child) {
        open STDERR, '>>', $log or die $!;
        exec $BIN, '--listen', '127.0.0.1:' . free_port(), '--db', "$dir/x.db",
            @secrets, '--contract-listen', "unix:$stale" or exit 127;
    }
    my $up;
    for (1 .. 200) {
        last if $up = IO::Socket::UNIX->new(Peer => $stale);
        sleep 0.05;
    }
    ok($up, 'a stale contract socket file is replaced');
    kill 'TERM', $child;
    waitpid($child, 0);
    is($? >> 8, 0, '... SIGTERM: exit 0');
    ok(!-e $stale, '... and the socket file is removed');
}
{
    # --max-client-connections caps the operator port, not the contract's
    # own listener (nginx is one address with many connections)
    my ($api_port, $contract_port) = (free_port(), free_port());
    my $child = fork // die $!;
    if (!$child) {
        open STDERR, '>>', $log or die $!;
        exec $BIN, '--listen', "127.0.0.1:$api_port", '--db', "$dir/x.db", @secrets,
            '--contract-listen', "127.0.0.1:$contract_port",
            '--max-client-connections', 1 or exit 127;
    }
    for (1 .. 200) {    # no probe connection: it would count for a moment
        last if read_file($log) =~ /listening on 127\.0\.0\.1:$api_port /;
        sleep 0.05;
    }
    # one idle connection, then a request on a second one: its status
    my $second = sub {
        my ($port, $path, $header) = @_;
        my $held = IO::Socket::INET->new("127.0.0.1:$port") or die $!;
        sleep 0.2;
        my $s = IO::Socket::INET->new("127.0.0.1:$port") or die $!;
        # a refusal comes unasked (sending first could earn a reset instead)
        print $s "POST $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n$header"
            . "Content-Length: 2\r\n\r\n{}"
            unless IO::Select->new($s)->can_read(1);
        local $/;
        my $answer = <$s> // '';
        return $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'none';
    };
    is($second->($api_port, '/api/v1/devices', "Authorization: Bearer $TOKEN\r\n"), 503,
       '--max-client-connections 1: a second connection to the operator port gets 503');
    is($second->($contract_port, '/contract/auth', "X-Omadm-Key: $KEY\r\n"), 400,
       '... to the contract\'s own listener it is served');
    kill 'TERM', $child;
    waitpid($child, 0);
}

start_backend();

# ---------------------------------------------------------------------------
# Authentication on both APIs.

my ($st, $b, $r);
($st, $b, $r) = request('GET', '/api/v1/devices');
is($st, 401, 'operator API without a token: 401');
is(ref $b && $b->{error} ? 1 : 0, 1, '401 has an error message');
($st) = request('GET', '/api/v1/devices', undef,
                { Authorization => 'Bearer wrong' });
is($st, 401, 'wrong token: 401');
($st) = request('GET', '/api/v1/devices', undef,
                { Authorization => "Basic $TOKEN" });
is($st, 401, 'token under another scheme: 401');
($st) = request('POST', '/contract/auth', { device_id => 'x', username => '' });
is($st, 401, 'contract without key: 401');
($st) = request('POST', '/contract/auth', { device_id => 'x', username => '' },
                { 'X-Omadm-Key' => "${KEY}x" });
is($st, 401, 'contract with wrong key: 401');
($st) = request('POST', '/contract/auth', { device_id => 'x', username => '' },
                { 'X-Omadm-Key' => $TOKEN });
is($st, 401, 'operator token is not the contract key');

# ---------------------------------------------------------------------------
# Devices.

my $ID = 'IMEI:490154203237518';
($st, $b) = api('POST', '/devices',
                { device_id => $ID, username => 'dev1', password => $PASS });
is($st, 201, 'create device: 201');
is($b->{device_id}, $ID, 'device_id echoed');
is($b->{username}, 'dev1', 'username echoed');
is_deeply($b->{devinfo}, {}, 'devinfo starts empty');
ok(exists $b->{last_seen} && !defined $b->{last_seen}, 'last_seen is null');
like($b->{created_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
     'created_at is ISO-8601 UTC');
ok(!exists $b->{password} && !exists $b->{inner}, 'no secret in the device');

($st, $b) = api('POST', '/devices',
                { device_id => $ID, username => 'dev1', password => 'x' });
is($st, 409, 'same device again: 409');

for my $bad (
    [ 'not json', '{"device_id":' ],
    [ 'array',    '[]' ],
    [ 'missing password', { device_id => 'a', username => 'u' } ],
    [ 'empty device_id',  { device_id => '', username => 'u', password => 'p' } ],
    [ 'numeric username', { device_id => 'a', username => 5, password => 'p' } ],
) {
    my ($name, $body) = @$bad;
    ($st, $b) = api('POST', '/devices', $body);
    is($st, 400, "create device, $name: 400");
    ok(ref $b eq 'HASH' && length($b->{error} // ''), "... with a message");
}

($st, $b) = api('GET', '/devices/' . enc($ID));
is($st, 200, 'GET device by URL-encoded id');
is($b->{device_id}, $ID, '... %3A decoded');
($st, $b) = api('GET', '/devices/IMEI%3a490154203237518');
is($st, 200, 'lower-case escape decoded too');
($st, $b) = api('GET', '/devices/' . enc('IMEI:000'));
is($st, 404, 'unknown device: 404');
is($b->{error}, 'unknown device', '... with an error');

my $SLASHED = 'urn:dev/with slash';
($st) = api('POST', '/devices',
            { device_id => $SLASHED, username => 'u2', password => 'p2' });
is($st, 201, 'device id with a slash and a space');
($st, $b) = api('GET', '/devices/' . enc($SLASHED));
is($st, 200, '... found through %2F and %20');
is($b->{device_id}, $SLASHED, '... intact');

($st, $b) = api('GET', '/devices');
is($st, 200, 'list devices');
is_deeply([ sort map { $_->{device_id} } @$b ], [ sort $ID, $SLASHED ],
          '... both listed');

# ---------------------------------------------------------------------------
# Commands.

my $P = '/devices/' . enc($ID);
($st, $b) = api('POST', "$P/commands", { verb => 'Fetch', target => './X' });
is($st, 400, 'bad verb: 400');
($st, $b) = api('POST', "$P/commands", { verb => 'Get', target => '/abs' });
is($st, 400, 'target with a leading slash: 400');
($st, $b) = api('POST', "$P/commands", { verb => 'Get' });
is($st, 400, 'no target: 400');
($st, $b) = api('POST', "$P/commands", { verb => 'Get', target => './X', data => 5 });
is($st, 400, 'non-string data: 400');
($st, $b) = api('POST', '/devices/nobody/commands',
                { verb => 'Get', target => './X' });
is($st, 404, 'command for an unknown device: 404');

($st, my $c1) = api('POST', "$P/commands",
                    { verb => 'Get', target => './DevDetail/SwV' });
is($st, 201, 'queue Get: 201');
is($c1->{state}, 'queued', '... queued');
like($c1->{id}, qr/^\d+$/, '... id is a string of digits');
ok(!ref $c1->{id} && $json->encode([$c1->{id}]) =~ /"/, '... and a JSON string');
ok(!defined $c1->{status}, '... no status yet');
is_deeply($c1->{results}, [], '... no results yet');

($st, my $c2) = api('POST', "$P/commands",
    { verb => 'Replace', target => './Vendor/MSFT/Policy/Config/X/Y',
      data => '6', format => 'int', type => 'text/plain' });
is($st, 201, 'queue Replace with data');
($st, my $c3) = api('POST', "$P/commands",
    { verb => 'Exec', target => './FwUpdate/Pkg1/DownloadAndUpdate',
      correlator => 'job-42' });
is($st, 201, 'queue Exec with a correlator');
is($c3->{correlator}, 'job-42', '... correlator kept');

($st, $b) = api('GET', "$P/commands/$c2->{id}");
is($st, 200, 'GET one command');
is($b->{data}, '6', '... data');
is($b->{format}, 'int', '... format');
($st) = api('GET', "$P/commands/999999");
is($st, 404, 'unknown command: 404');
($st) = api('GET', '/devices/' . enc($SLASHED) . "/commands/$c2->{id}");
is($st, 404, "another device's command: 404");

# ---------------------------------------------------------------------------
# Contract: auth and nonce.

($st, $b) = contract('auth', { device_id => $ID, username => 'dev1' });
is($st, 200, 'contract auth');
is($b->{username}, 'dev1', '... registered username');
is($b->{inner}, md5_base64("dev1:$PASS") . '==', '... inner = B64(MD5(user:pass))');
is($b->{nonce}, '', '... no nonce issued yet');
is_deeply($b->{previous_nonces}, [], '... and none before it');
($st, $b) = contract('auth', { device_id => 'IMEI:000', username => 'x' });
is($st, 404, 'auth for an unknown device: 404');
is($b->{error}, 'unknown device', '... error');
($st, $b) = contract('auth', '{"device_id": ');
is($st, 400, 'bad JSON: 400');
ok(length($b->{error} // ''), '... with an error');

($st, $b) = contract('nonce', { device_id => $ID, nonce => 'N1' });
is($st, 200, 'store nonce');
is($b->{nonce}, 'N1', '... answer: the nonce to send');
# contract version 2: the credential record comes along, as auth answers it
my ($ast, $auth_now) = contract('auth', { device_id => $ID, username => '' });
is_deeply($b->{credentials}, $auth_now,
          '... with the credential record auth answers (credential_version too)');
like($auth_now->{credential_version} // '', qr/^[0-9a-f]{32}$/,
     'auth answers a credential_version');
# a challenge hands out the nonce the device holds: only a login replaces it
($st, $b) = contract('nonce', { device_id => $ID, nonce => 'N5' });
is_deeply([ $st, $b->{nonce} ], [ 200, 'N1' ],
          'a second challenge: the unused nonce, not the new candidate');
# an unknown device gets a stand-in that looks like a held nonce: the same
# on every challenge, so a challenge tells no one which ids are registered
($st, $b) = contract('nonce', { device_id => 'IMEI:000', nonce => 'N1' });
my $stand_in = $b->{nonce};
is($st, 200, 'nonce for an unknown device: 200');
like($stand_in // '', qr{^[A-Za-z0-9+/]{22}==$}, '... with a 16-byte stand-in');
ok(!exists $b->{credentials}, '... and no credential record');
(undef, $b) = contract('nonce', { device_id => 'IMEI:000', nonce => 'N7' });
is($b->{nonce}, $stand_in, '... the same on the next challenge');
(undef, $b) = contract('nonce', { device_id => 'IMEI:001', nonce => 'N7' });
isnt($b->{nonce}, $stand_in, '... and another for another id');
($st) = contract('auth', { device_id => 'IMEI:000', username => '' });
is($st, 404, '... while auth still says unknown device');
(undef, $b) = contract('auth', { device_id => $ID, username => 'dev1' });
is($b->{nonce}, 'N1', 'auth returns the stored nonce');

# ---------------------------------------------------------------------------
# Contract: exchange.

($st, $b) = exchange(session_id => '1', msg_id => '1', session_start => JSON::PP::true,
                     used_nonce => 'N1', next_nonce => 'N2', max_commands => 1);
is($st, 200, 'exchange, session start');
is_deeply(command_ids($b), [ $c1->{id} ], '... one command (max_commands 1), oldest first');
is_deeply($b->{commands}[0],
          { id => $c1->{id}, verb => 'Get', target => './DevDetail/SwV' },
          '... contract shape, no empty optional fields');
(undef, $b) = api('GET', "$P/commands/$c1->{id}");
is($b->{state}, 'sent', 'the command is now sent');

(undef, $b) = api('GET', $P);
like($b->{last_seen} // '', qr/Z$/, 'last_seen set by the exchange');

my %msg2 = (session_id => '1', msg_id => '2', used_nonce => 'N2', next_nonce => 'N3',
            devinfo => { './DevInfo/Man' => 'Example Corp', './DevInfo/Lang' => 'en' },
            results => [ { command_id => $c1->{id}, source => './DevDetail/SwV',
                           format => 'chr', type => 'text/plain', data => '4.2.1' } ],
            statuses => [ { command_id => $c1->{id}, status => 200 } ]);
($st, my $a2) = exchange(%msg2);
is($st, 200, 'exchange with Results and Status');
is_deeply(command_ids($a2), [ $c2->{id}, $c3->{id} ], '... next commands, in order');
is_deeply($a2->{commands}[0],
          { id => $c2->{id}, verb => 'Replace', target => './Vendor/MSFT/Policy/Config/X/Y',
            data => '6', format => 'int', type => 'text/plain' },
          '... Replace carries data, format, type');
is($a2->{commands}[1]{correlator}, 'job-42', '... Exec carries its correlator');

($st, $b) = exchange(%msg2);
is($st, 200, 'the same exchange again');
is_deeply($b, $a2, '... the same answer');

my %msg3 = (session_id => '1', msg_id => '3', used_nonce => 'N3', next_nonce => 'N4',
    results => [ { command_id => $c1->{id}, source => './DevDetail/SwV', data => 'again' } ],
    statuses => [ { command_id => $c1->{id}, status => 500 } ]);
($st, $b) = exchange(%msg3);
is($st, 200, 'a later message repeating the Status and a Result');
is_deeply($b->{commands}, [], '... nothing more to send');

(undef, $b) = api('GET', "$P/commands/$c1->{id}");
is($b->{state}, 'done', 'command done');
is($b->{status}, 200, '... with the first status');
is_deeply($b->{results},
          [ { source => './DevDetail/SwV', format => 'chr', type => 'text/plain',
              data => '4.2.1' } ],
          '... and its result, recorded once');

(undef, $b) = api('GET', $P);
is_deeply($b->{devinfo}, { './DevInfo/Man' => 'Example Corp', './DevInfo/Lang' => 'en' },
          'devinfo stored');

# Nonce compare-and-swap: a stale used_nonce changes nothing.
($st, $b) = exchange(session_id => '1', msg_id => '4', used_nonce => 'N2', next_nonce => 'N9',
                     alerts => [ { code => '1226', correlator => 'lost', items => [] } ],
                     statuses => [ { command_id => $c2->{id}, status => 200 } ]);
is($st, 409, 'stale used_nonce: 409');
is($b->{error}, 'nonce', '... error "nonce"');
(undef, $b) = contract('auth', { device_id => $ID, username => 'dev1' });
is($b->{nonce}, 'N4', '... stored nonce unchanged');
is_deeply($b->{previous_nonces}, [qw(N3 N2 N1)],
          '... the nonces it replaced, newest first');
# credential_version: an exchange verified against out-of-date credentials
# is refused before anything, the nonce's compare-and-swap and a repeat
# included; a retry with the current one is the same message
my (undef, $vb) = contract('auth', { device_id => $ID, username => '' });
my $ver = $vb->{credential_version};
($st, $b) = exchange(session_id => '1', msg_id => '4', used_nonce => 'N4', next_nonce => 'N5',
                     credential_version => 'f' x 32,
                     statuses => [ { command_id => $c2->{id}, status => 200 } ]);
is_deeply([ $st, $b->{error} ], [ 409, 'credentials changed' ],
          'an out-of-date credential_version: 409 credentials changed');
(undef, $b) = contract('auth', { device_id => $ID, username => '' });
is($b->{nonce}, 'N4', '... nonce unchanged');
(undef, $b) = api('GET', "$P/commands/$c2->{id}");
is($b->{state}, 'sent', '... and the Status not applied');
($st, $b) = exchange(%msg3, credential_version => 'f' x 32);
is($st, 409, '... a repeat of the last message too');
($st, $b) = exchange(%msg3, credential_version => $ver);
is_deeply([ $st, $b->{commands} ], [ 200, [] ],
          '... which, with the current version, is the same message again');
my ($pst) = api('PUT', "$P/password", { password => 'changed' });
is($pst, 204, 'PUT password: 204');
(undef, $b) = contract('auth', { device_id => $ID, username => '' });
isnt($b->{credential_version}, $ver, '... a new credential_version');
is($b->{nonce}, 'N4', '... the nonce kept');
isnt($b->{inner}, md5_base64("dev1:$PASS") . '==', '... a new inner');
($st) = exchange(session_id => '1', msg_id => '4', used_nonce => 'N4', next_nonce => 'N5',
                 credential_version => $ver);
is($st, 409, '... the old version refused');
($pst) = api('PUT', "$P/password", { password => $PASS });
(undef, $b) = contract('auth', { device_id => $ID, username => '' });
is($b->{credential_version}, $ver, 'the same credentials again: the same version');
is((api('PUT', '/devices/IMEI:000/password', { password => 'x' }))[0], 404,
   'PUT password of an unknown device: 404');
is((api('PUT', "$P/password", { password => '' }))[0], 400, '... an empty one: 400');

# logins rotate the nonce (challenges do not): a device of its own for it
my $ROT = 'IMEI:rotation';
api('POST', '/devices', { device_id => $ROT, username => 'r', password => 'p' });
my $held = '';
for my $n (qw(R1 R2 R3 R4 R5 R6)) {
    contract('exchange', { device_id => $ROT, session_id => $n, msg_id => '1',
             session_start => JSON::PP::true, used_nonce => $held,
             next_nonce => $n, max_commands => 0 });
    $held = $n;
}
(undef, $b) = contract('auth', { device_id => $ROT, username => 'r' });
is($b->{nonce}, 'R6', '... the last login set the nonce');
is_deeply($b->{previous_nonces}, [qw(R5 R4 R3 R2)], '... at most four of them');
(undef, $b) = api('GET', "$P/commands/$c2->{id}");
is($b->{state}, 'sent', '... status not applied');

# A new session: what is still sent goes out again.
($st, $b) = exchange(session_id => '2', msg_id => '1', session_start => JSON::PP::true,
                     used_nonce => 'N4', next_nonce => 'N5',
                     devinfo => { './DevInfo/Lang' => 'fr', './DevInfo/DevId' => $ID },
                     alerts => [
                         { code => '1226', correlator => 'job-42',
                           items => [ { source => './FwUpdate/Pkg1/DownloadAndUpdate',
                                        target => '', type => 'x-type', format => 'int',
                                        mark => 'critical', data => '200' } ] },
                         { code => '1224', items => [ { data => 'a' } ] } ]);
is($st, 200, 'session start');
is_deeply(command_ids($b), [ $c2->{id}, $c3->{id} ], '... requeued sent commands returned');

(undef, $b) = api('GET', $P);
is_deeply($b->{devinfo}, { './DevInfo/Man' => 'Example Corp', './DevInfo/Lang' => 'fr',
                           './DevInfo/DevId' => $ID },
          'devinfo merged key by key');

($st, $b) = exchange(session_id => '2', msg_id => '2',
                     statuses => [ { command_id => $c2->{id}, status => 404 },
                                   { command_id => $c3->{id}, status => 202 },
                                   { command_id => '777777', status => 200 } ]);
is($st, 200, 'statuses (and one for an unknown id)');
(undef, $b) = api('GET', "$P/commands/$c2->{id}");
is_deeply([ @$b{qw(state status)} ], [ 'failed', 404 ], 'non-2xx: failed');
(undef, $b) = api('GET', "$P/commands/$c3->{id}");
is_deeply([ @$b{qw(state status)} ], [ 'done', 202 ], '2xx: done');

(undef, $b) = api('GET', "$P/commands");
is_deeply([ map { $_->{state} } @$b ], [ 'done', 'failed', 'done' ], 'command list, in order');

($st, $b) = api('GET', "$P/alerts");
is($st, 200, 'alerts');
is(scalar @$b, 2, '... two (the rejected message stored none)');
is_deeply([ map { $_->{code} } @$b ], [ '1226', '1224' ], '... oldest first');
is($b->[0]{correlator}, 'job-42', '... correlator');
is($b->[1]{correlator}, '', '... "" when absent');
is($b->[0]{items}[0]{mark}, 'critical', '... items kept');
like($b->[0]{received_at} // '', qr/Z$/, '... received_at');
ok(!ref $b->[0]{id}, '... id is a string');

# Basic: next_nonce alone replaces the stored nonce.
($st) = exchange(session_id => '3', msg_id => '1', session_start => JSON::PP::true,
                 next_nonce => 'B1');
is($st, 200, 'Basic: next_nonce without used_nonce');
(undef, $b) = contract('auth', { device_id => $ID, username => 'dev1' });
is($b->{nonce}, 'B1', '... stored');

# A repeat is the same request, not just the same (session, msg): a device
# that reuses SessionID 3 in a new session gets that session's own answer,
# and a retry of a message takes the retry's next_nonce.
my $reused;
(undef, $reused) = api('POST', "$P/commands", { verb => 'Get', target => './Reused' });
($st, $b) = exchange(session_id => '3', msg_id => '1', session_start => JSON::PP::true,
                     used_nonce => 'B1', next_nonce => 'B2',
                     alerts => [ { code => '1226', correlator => 'reuse', items => [] } ]);
is($st, 200, 'a new session reusing SessionID 3 and MsgID 1');
is_deeply(command_ids($b), [ $reused->{id} ], '... is processed: gets the new command');
(undef, $b) = api('GET', "$P/alerts");
is(scalar(grep { $_->{correlator} eq 'reuse' } @$b), 1, '... and its alert is stored');
($st, $b) = exchange(session_id => '3', msg_id => '1', session_start => JSON::PP::true,
                     used_nonce => 'B1', next_nonce => 'B3',
                     alerts => [ { code => '1226', correlator => 'reuse', items => [] } ]);
# a second login with a used nonce is a copy racing the first (the module
# never repeats one: a device's retry finds the nonce rotated): 409
is($st, 409, 'the same login again (its nonce already used): 409');
(undef, $b) = api('GET', "$P/alerts");
is(scalar(grep { $_->{correlator} eq 'reuse' } @$b), 1, '... the alert not stored twice');
(undef, $b) = contract('auth', { device_id => $ID, username => 'dev1' });
is($b->{nonce}, 'B2', '... and the nonce the first login stored stays');
my %last = (session_id => '3', msg_id => '2',
            statuses => [ { command_id => $reused->{id}, status => 200 } ]);
($st, $b) = exchange(%last);
is_deeply([ $st, $b->{commands} ], [ 200, [] ], '... its Status closes the session');

($st) = exchange(device_id => 'IMEI:000', session_id => '1', msg_id => '1');
is($st, 404, 'exchange for an unknown device: 404');
($st, $b) = exchange(session_id => '3', msg_id => '2',
                     statuses => [ { command_id => '1', status => 'OK' } ]);
is($st, 400, 'exchange with a malformed status: 400');
ok(length($b->{error} // ''), '... with a message');
($st) = contract('exchange', 'nope');
is($st, 400, 'exchange with bad JSON: 400');

# ---------------------------------------------------------------------------
# Concurrency: parallel clients queue commands; every one lands, ids unique.

my $SP = '/devices/' . enc($SLASHED);
my @kids;
for my $k (1 .. 4) {
    my $kid = fork // die $!;
    if (!$kid) {
        my $ok = 1;
        for my $i (1 .. 10) {
            my ($s) = api('POST', "$SP/commands", { verb => 'Get', target => "./K$k/$i" });
            $ok = 0 unless $s == 201;
        }
        POSIX::_exit($ok ? 0 : 1);
    }
    push @kids, $kid;
}
my $kids_ok = 1;
for (@kids) { waitpid $_, 0; $kids_ok = 0 if $? }
ok($kids_ok, 'parallel command creation');
(undef, $b) = api('GET', "$SP/commands");
is(scalar @$b, 40, '... all 40 stored');
my %seen = map { $_->{id} => 1 } @$b;
is(scalar keys %seen, 40, '... with distinct ids');

# ---------------------------------------------------------------------------
# Size limits: every exchange answer must fit the module's
# subrequest_output_buffer_size, so command data is bounded and an answer
# stops short of 512 KiB (docs/backend-api.md).  Large objects (a top-level
# Add or Replace over 64 KiB, handed out by size): t/backend_objects.t.

my $KiB = 1024;
my $LP  = '/devices/' . enc('IMEI:large');
($st) = api('POST', '/devices', { device_id => 'IMEI:large', username => 'big',
                                  password => 'p' });
is($st, 201, 'device for the size limits');

($st, $b) = api('POST', "$LP/commands",
                { verb => 'Exec', target => './Big', data => 'A' x (256 * $KiB + 1) });
is($st, 400, 'Exec data of 256 KiB + 1 byte: 400');
like($b->{error} // '', qr/"data".*only a top-level Add or Replace/,
     '... says only a top-level Add or Replace may carry more');
my $utf8 = JSON::PP->new->utf8->canonical;
($st, $b) = request('POST', "/api/v1$LP/commands",
                    $utf8->encode({ verb => 'Exec', target => './Big',
                                    data => "\x{e9}" x (128 * $KiB) . 'A' }),
                    { Authorization => "Bearer $TOKEN" });
is($st, 400, 'data counted in UTF-8 bytes, not characters: 400');
($st, $b) = api('POST', "$LP/commands",
                { verb => 'Exec', target => './Big', data => '"' x (256 * $KiB) });
is($st, 400, '256 KiB of data that doubles when JSON-escaped: 400');
like($b->{error} // '', qr/JSON-escaped.*one exchange answer/, '... says why');
($st, $b) = api('POST', "$LP/commands",
                { verb => 'Sequence', commands => [ map {
                    { verb => 'Replace', target => "./Q/$_", data => '"' x (64 * $KiB) }
                  } 1 .. 4 ] });
is($st, 400, 'a container of 4 x 64 KiB that doubles when JSON-escaped: 400');
like($b->{error} // '', qr/JSON-escaped.*one exchange answer/, '... says why');
for my $bad ([ target => './' . 'T' x (4 * $KiB - 1) ], [ format => 'f' x 257 ],
             [ type => 't' x 257 ], [ correlator => 'c' x 257 ]) {
    my ($field, $value) = @$bad;
    ($st, $b) = api('POST', "$LP/commands",
                    { verb => 'Exec', target => './X', $field => $value });
    is($st, 400, "$field of " . length($value) . ' bytes: 400');
    like($b->{error} // '', qr/"$field" is longer than/, '... names the field');
}
(undef, $b) = api('GET', "$LP/commands");
is_deeply($b, [], 'nothing refused was queued');

($st, $b) = api('POST', "$LP/commands",
                { verb => 'Exec', target => './' . 'T' x (4 * $KiB - 2),
                  format => 'f' x 256, type => 't' x 256, correlator => 'c' x 256 });
is($st, 201, 'target of 4 KiB, format, type and correlator of 256 bytes: 201');
($st, my $exact) = api('POST', "$LP/commands",
                       { verb => 'Exec', target => './Big',
                         data => 'A' x (256 * $KiB) });
is($st, 201, 'Exec data of exactly 256 KiB: 201');
is(length $exact->{data}, 256 * $KiB, '... stored whole');
($st, $b, $r) = contract('exchange', { device_id => 'IMEI:large', session_id => '1',
                                       msg_id => '1', session_start => JSON::PP::true,
                                       max_commands => 50 });
is($st, 200, 'exchange takes the 4 KiB Exec and the 256 KiB Exec');
is(scalar @{ $b->{commands} }, 2, '... both (they fit)');
is(length $b->{commands}[1]{data}, 256 * $KiB, '... data intact, inline (not a Replace)');
exchange(device_id => 'IMEI:large', session_id => '1', msg_id => '2',
         statuses => [ map { { command_id => $_, status => 200 } } @{ command_ids($b) } ]);

# As many as fit: 64 KiB of quotes is inline, 128 KiB once escaped; three
# fit in 512 KiB, a fourth would not.
my @big;
for my $n (1 .. 4) {
    ($st, my $c) = api('POST', "$LP/commands",
                       { verb => 'Replace', target => "./Big/$n",
                         data => '"' x (64 * $KiB) });
    is($st, 201, "queue 64 KiB of quotes ($n)");
    push @big, $c->{id};
}
($st, $b, $r) = exchange(device_id => 'IMEI:large', session_id => '2', msg_id => '1',
                         session_start => JSON::PP::true);
is($st, 200, 'exchange with 512 KiB of escaped data queued');
cmp_ok(length $r->{content}, '<=', 512 * $KiB, '... answer within 512 KiB');
is_deeply(command_ids($b), [ @big[0 .. 2] ], '... the first three, in order');
is($b->{commands}[2]{data}, '"' x (64 * $KiB), '... data inline and intact');
(undef, $b) = api('GET', "$LP/commands/$big[3]");
is($b->{state}, 'queued', '... the fourth stays queued');
($st, $b, $r) = exchange(device_id => 'IMEI:large', session_id => '2', msg_id => '2',
                         statuses => [ map { { command_id => $_, status => 200 } }
                                       @big[0 .. 2] ]);
is_deeply(command_ids($b), [ $big[3] ], 'the next exchange sends the rest');
($st, $b) = exchange(device_id => 'IMEI:large', session_id => '2', msg_id => '2',
                     statuses => [ map { { command_id => $_, status => 200 } }
                                   @big[0 .. 2] ]);
is_deeply(command_ids($b), [ $big[3] ], '... and repeats that answer');
($st, $b) = exchange(device_id => 'IMEI:large', session_id => '2', msg_id => '3',
                     statuses => [ { command_id => $big[3], status => 200 } ]);
is_deeply($b->{commands}, [], '... then nothing more');

# A command alone over half an answer still goes out on its own: an Exec's
# 150 KiB of quotes is 300 KiB once escaped.
my @half;
for my $n (1 .. 2) {
    ($st, my $c) = api('POST', "$LP/commands",
                       { verb => 'Exec', target => "./Control/$n",
                         data => '"' x (150 * $KiB) });
    is($st, 201, "queue an Exec with 150 KiB of quotes ($n), 300 KiB once escaped");
    push @half, $c->{id};
}
($st, $b, $r) = exchange(device_id => 'IMEI:large', session_id => '3', msg_id => '1',
                         session_start => JSON::PP::true);
is_deeply(command_ids($b), [ $half[0] ], 'escaped size counts: one per answer');
cmp_ok(length $r->{content}, '<=', 512 * $KiB, '... within 512 KiB');
is($b->{commands}[0]{data}, '"' x (150 * $KiB), '... data intact');
($st, $b) = exchange(device_id => 'IMEI:large', session_id => '3', msg_id => '2',
                     statuses => [ { command_id => $half[0], status => 200 } ]);
is_deeply(command_ids($b), [ $half[1] ], '... the other in the next');

# ---------------------------------------------------------------------------
# Delete.

($st, $b, $r) = api('DELETE', $SP);
is($st, 204, 'delete device: 204');
is($r->{content} // '', '', '... no body');
($st) = api('GET', $SP);
is($st, 404, '... gone');
($st) = api('GET', "$SP/commands");
is($st, 404, '... its commands too');
($st) = api('DELETE', $SP);
is($st, 404, 'delete again: 404');
($st) = api('POST', '/devices', { device_id => $SLASHED, username => 'u2', password => 'p2' });
(undef, $b) = api('GET', "$SP/commands");
is_deeply($b, [], 're-created device starts with no commands');
($st, $b) = api('PUT', '/devices', '{}');
is($st, 405, 'PUT on the collection: 405');
($st, $b) = api('GET', '/nothing/here');
is($st, 404, 'unknown API path: 404 JSON');
is($b->{error}, 'not found', '... error');

# ---------------------------------------------------------------------------
# Restart: everything survives, ids are not reused.

($st, my $c4) = api('POST', "$P/commands", { verb => 'Get', target => './Survivor' });
is($st, 201, 'command queued before the restart');
is(stop_backend(), 0, 'SIGTERM: clean exit 0');
start_backend();
($st, $b) = api('GET', $P);
is($st, 200, 'device still there after restart');
is($b->{devinfo}{'./DevInfo/Lang'}, 'fr', '... with its devinfo');
($st, $b) = api('GET', "$P/commands/$c4->{id}");
is($st, 200, 'command still there');
is($b->{state}, 'queued', '... still queued');
(undef, $b) = api('GET', "$P/commands/$c1->{id}");
is_deeply($b->{results}[0]{data}, '4.2.1', 'results survive');
(undef, $b) = contract('auth', { device_id => $ID, username => 'dev1' });
is($b->{nonce}, 'B2', 'nonce survives');
($st, $b) = exchange(%last);
is($st, 200, 'repeat of the last exchange after a restart');
is_deeply($b->{commands}, [], '... answered from the stored answer');
($st, $b) = api('POST', "$P/commands", { verb => 'Get', target => './After' });
cmp_ok($b->{id}, '>', $c4->{id}, 'new ids continue after the restart');

# A container answered without Statuses for its children: the children
# cannot go out again alone, so at the next session they end failed
# (status null) instead of waiting in the queue for ever.
{
    my ($s1, $atomic) = api('POST', "$P/commands", { verb => 'Atomic', commands => [
        { verb => 'Replace', target => './O/1', data => 'x' },
        { verb => 'Replace', target => './O/2', data => 'y' } ] });
    is($s1, 201, 'an Atomic with two children queued');
    my ($s2, $a) = exchange(session_id => 'orph', msg_id => '1', session_start => JSON::PP::true);
    my ($tree) = grep { $_->{id} eq $atomic->{id} } @{ $a->{commands} };
    ok($tree && @{ $tree->{commands} } == 2, '... handed out as a tree');
    exchange(session_id => 'orph', msg_id => '2',
             statuses => [ { command_id => $atomic->{id}, status => 200 } ]);
    exchange(session_id => 'orph2', msg_id => '1', session_start => JSON::PP::true,
             max_commands => 0);
    my (undef, $after) = api('GET', "$P/commands/$atomic->{id}");
    is($after->{state}, 'done', '... the Atomic is done');
    is_deeply([ map { [$_->{state}, $_->{status}] } @{ $after->{commands} } ],
              [ ['failed', undef], ['failed', undef] ],
              '... its unanswered children end failed, status null');
}
is(stop_backend(), 0, 'second clean stop');

# ---------------------------------------------------------------------------
# The log: one line per request, never a secret.

my $text = read_file($log);
like($text, qr{POST /contract/exchange 200 [\d.]+ms}, 'request lines: method, path, status, ms');
like($text, qr{GET /api/v1/devices/IMEI%3A490154203237518 200 }, 'paths as sent');
unlike($text, qr/\Q$TOKEN\E/, 'token never logged');
unlike($text, qr/\Q$KEY\E/,   'key never logged');
unlike($text, qr/\Q$PASS\E/,  'password never logged');
unlike($text, qr/\Q${\ md5_base64("dev1:$PASS")}\E/, 'inner never logged');

done_testing();

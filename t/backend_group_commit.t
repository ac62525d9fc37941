#!/usr/bin/perl
#
# Group commit keeps every call durable before its answer: concurrent
# clients drive the backend's write calls (queue a command, a session start
# that hands it out, the message with its Status and Results, an alert in
# each exchange) and note each call only once it has answered 2xx; the
# backend is killed with SIGKILL in the middle of that load, restarted, and
# everything noted must be in the database.  Then concurrent exchanges of
# one device, each merging a DevInfo key of its own: none is lost (the
# read-modify-write runs serialized on the writer).  Every process is
# started and stopped here by PID.  OMADM_BACKEND_BIN overrides
# build/omadm-backend.  OMADM_TEST_DATABASE=postgresql runs it on a private
# PostgreSQL (the calls then commit on pooled connections, the server
# grouping their WAL flushes), without the :memory: part.

use strict;
use warnings;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG _exit);
use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use OmadmTest::Postgres;

my $BIN = $ENV{OMADM_BACKEND_BIN} || 'build/omadm-backend';
plan skip_all => "$BIN not built (run make)" unless -x $BIN;

my $TOKEN = 'operator-token-' . join('', map { int rand 10 } 1 .. 12);
my $KEY   = 'contract-key-' . join('', map { int rand 10 } 1 .. 12);
my $dir = tempdir('omadm-group-commit-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $log = "$dir/backend.log";
write_file("$dir/token", "$TOKEN\n");
write_file("$dir/key",   "$KEY\n");

my ($CLIENTS, $KILL_AFTER) = (16, 100);    # clients; kill after 100 rounds
my $json = JSON::PP->new->canonical;
my ($pid, $port);
my @children;
my $pg = OmadmTest::Postgres::enabled() ? OmadmTest::Postgres->new("$dir/pg") : undef;
chmod 0755, $dir if $pg;    # PostgreSQL runs as nobody under root
my $DB = $pg ? $pg->url : "$dir/omadm.db";

END {
    local $?;
    kill 'KILL', $_ for @children;
    waitpid($_, 0) for @children;
    stop_backend() if $pid;
    $pg->stop if $pg;
}

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

sub read_lines {
    my ($path) = @_;
    open my $fh, '<', $path or return ();
    chomp(my @l = <$fh>);
    return @l;
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Writes slowed (under strace, each pwrite 5 ms late) widen the time a
# commit takes: a backend that answered before its commit's writes were
# done would lose answered calls to the kill.  Without strace (or ptrace)
# the test still runs, at full speed.
my $STRACE = -x '/usr/bin/strace'
    && system('/usr/bin/strace -qq -o /dev/null -e trace=none true') == 0;
my $backend;    # the backend's own pid (under strace: strace's child)

sub start_backend {
    my (%o) = @_;
    $port = free_port();
    my @slow = $o{slow} && $STRACE
        ? ('/usr/bin/strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=pwrite64',
           '-e', 'inject=pwrite64:delay_enter=5000')
        : ();
    $pid = fork // die $!;
    if (!$pid) {
        delete @ENV{qw(OMADM_ADMIN_TOKEN OMADM_CONTRACT_KEY)};
        open STDERR, '>>', $log or die $!;
        exec @slow, $BIN, '--listen', "127.0.0.1:$port", '--database', $o{db} // $DB,
            '--token-file', "$dir/token", '--key-file', "$dir/key"
            or exit 127;
    }
    $backend = $pid;
    for (1 .. 400) {
        if (@slow && $backend == $pid) {
            my ($child) = read_lines("/proc/$pid/task/$pid/children");
            ($backend) = ($child // '') =~ /(\d+)/;
            $backend //= $pid;
        }
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.05;
    }
    die "omadm-backend did not listen on $port";
}

sub stop_backend {
    kill 'TERM', $pid;
    for (1 .. 200) {
        last if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    undef $pid;
}

sub kill_backend {
    kill 'KILL', $backend;
    waitpid $pid, 0;
    undef $pid;
}

# call(METHOD, path, body) -> (status, decoded body); a fresh connection
# each time (no Nagle wait on a reused one, and a kill shows at once).
sub call {
    my ($method, $path, $body) = @_;
    my $contract = $path =~ m{^/contract/};
    my $r = HTTP::Tiny->new(timeout => 20, keep_alive => 0)->request($method,
        "http://127.0.0.1:$port$path", {
            headers => { 'Content-Type' => 'application/json',
                         $contract ? ('X-Omadm-Key' => $KEY)
                                   : (Authorization => "Bearer $TOKEN") },
            $body ? (content => $json->encode($body)) : () });
    return ($r->{status}, eval { decode_json($r->{content}) });
}

sub device_path { my $id = shift; $id =~ s/:/%3A/g; return "/api/v1/devices/$id" }

# One client: its own device, round after round until a call fails.  A line
# goes to its notes only after the call that made it true answered 2xx.
sub client {
    my ($n) = @_;
    my $dev = "IMEI:gc-$n";
    open my $notes, '>>', "$dir/notes-$n" or die $!;
    $notes->autoflush(1);
    for (my $round = 1;; $round++) {
        my ($st, $cmd) = call(POST => device_path($dev) . '/commands',
                              { verb => 'Get', target => "./gc/$n/$round" });
        return unless $st == 201;
        my $cid = $cmd->{id};
        print $notes "queued $cid\n";
        my %msg = (device_id => $dev, session_id => "s$round", max_commands => 10);
        ($st, my $answer) = call(POST => '/contract/exchange', {
            %msg, msg_id => '1', session_start => JSON::PP::true,
            alerts => [{ code => '1201', correlator => "a-$n-$round-1", items => [] }] });
        return unless $st == 200;
        print $notes "alert a-$n-$round-1\n";
        my @sent = map { $_->{id} } @{ $answer->{commands} || [] };
        die "client $n round $round: command $cid not handed out\n"
            unless grep { $_ eq $cid } @sent;
        print $notes "sent $cid\n";
        ($st) = call(POST => '/contract/exchange', {
            %msg, msg_id => '2',
            statuses => [{ command_id => $cid, status => 200 }],
            results  => [{ command_id => $cid, source => "./gc/$n/$round",
                           data => "r-$n-$round" }],
            alerts => [{ code => '1226', correlator => "a-$n-$round-2", items => [] }] });
        return unless $st == 200;
        print $notes "alert a-$n-$round-2\n";
        print $notes "done $cid r-$n-$round\n";
    }
}

sub rounds_done {
    my $done = 0;
    $done += grep { /^done / } read_lines("$dir/notes-$_") for 1 .. $CLIENTS;
    return $done;
}

# ---------------------------------------------------------------------------

start_backend(slow => 1);
for my $n (1 .. $CLIENTS) {
    my ($st) = call(POST => '/api/v1/devices',
                    { device_id => "IMEI:gc-$n", username => "u$n", password => "p$n" });
    is($st, 201, "device $n registered") or BAIL_OUT('cannot register');
}

for my $n (1 .. $CLIENTS) {
    my $child = fork // die $!;
    if (!$child) {
        eval { client($n); 1 } or print STDERR $@;
        _exit(0);
    }
    push @children, $child;
}
my $deadline = time + 120;
sleep 0.05 while rounds_done() < $KILL_AFTER && time < $deadline;
my $before = rounds_done();
ok($before >= $KILL_AFTER, "load under way: $before rounds answered");
kill_backend();    # SIGKILL, mid-batch: the writer is always committing
waitpid($_, 0) for @children;
@children = ();

start_backend();
my (%queued, %sent, %done, %alert);
for my $n (1 .. $CLIENTS) {
    for (read_lines("$dir/notes-$n")) {
        my ($what, $id, $data) = split / /;
        if    ($what eq 'queued') { $queued{$id} = $n }
        elsif ($what eq 'sent')   { $sent{$id} = 1 }
        elsif ($what eq 'done')   { $done{$id} = $data }
        elsif ($what eq 'alert')  { $alert{$id} = $n }
    }
}
my ($missing_cmd, $wrong_state, $missing_alert) = (0, 0, 0);
for my $cid (sort keys %queued) {
    my $dev = "IMEI:gc-$queued{$cid}";
    my ($st, $c) = call(GET => device_path($dev) . "/commands/$cid");
    if ($st != 200) { $missing_cmd++; diag("command $cid: $st"); next }
    my $want = exists $done{$cid} ? 'done' : exists $sent{$cid} ? 'sent' : undef;
    next unless $want;
    # a call in flight at the kill may have committed without its answer
    # getting out: a hand-out noted may be done since
    my $ok = $want eq 'sent' ? $c->{state} =~ /^(sent|done)$/
                             : $c->{state} eq 'done';
    $ok &&= grep { ($_->{data} // '') eq $done{$cid} } @{ $c->{results} || [] }
        if $want eq 'done';
    if (!$ok) { $wrong_state++; diag("command $cid: want $want, got " . $json->encode($c)) }
}
for my $n (1 .. $CLIENTS) {
    my ($st, $list) = call(GET => device_path("IMEI:gc-$n") . '/alerts');
    my %have = map { ($_->{correlator} => 1) } @{ $list || [] };
    for my $a (grep { $alert{$_} == $n } keys %alert) {
        next if $have{$a};
        $missing_alert++;
        diag("alert $a acknowledged but not stored");
    }
}
ok(scalar(keys %queued) >= $KILL_AFTER, scalar(keys %queued) . ' commands acknowledged before the kill');
is($missing_cmd, 0, 'every acknowledged command is stored after the kill');
is($wrong_state, 0, 'every acknowledged hand-out and Status/Results is stored');
is($missing_alert, 0, 'every acknowledged alert (' . scalar(keys %alert) . ') is stored');

# --- no lost update: one device, concurrent exchanges, one DevInfo key each
my ($W, $EACH) = (8, 15);
my ($st) = call(POST => '/api/v1/devices',
                { device_id => 'IMEI:gc-shared', username => 'us', password => 'ps' });
is($st, 201, 'shared device registered');
for my $w (1 .. $W) {
    my $child = fork // die $!;
    if (!$child) {
        my $bad = 0;
        for my $i (1 .. $EACH) {
            my ($s) = call(POST => '/contract/exchange', {
                device_id => 'IMEI:gc-shared', session_id => "w$w-$i", msg_id => '1',
                session_start => JSON::PP::true, max_commands => 10,
                devinfo => { "k$w-$i" => "v$w-$i" },
                alerts => [{ code => '1201', correlator => "w$w-$i", items => [] }] });
            $bad++ unless $s == 200;
        }
        _exit($bad ? 1 : 0);
    }
    push @children, $child;
}
my $failed = 0;
for (@children) { waitpid($_, 0); $failed++ if $? }
@children = ();
is($failed, 0, "$W concurrent writers: every exchange answered 200");
my ($dst, $shared) = call(GET => device_path('IMEI:gc-shared'));
my @keys = grep { /^k\d+-\d+$/ } keys %{ $shared->{devinfo} || {} };
is(scalar @keys, $W * $EACH, 'every concurrent DevInfo merge is kept (no lost update)');
my ($ast, $alerts) = call(GET => device_path('IMEI:gc-shared') . '/alerts');
is(scalar @{ $alerts || [] }, $W * $EACH, 'every concurrent alert is stored');

stop_backend();

# --- --db :memory: (tests only): the same calls, nothing kept, no file
if ($pg) {
    done_testing;
    exit 0;
}
my $files = () = glob("$dir/*");
start_backend(db => ':memory:');
($st) = call(POST => '/api/v1/devices',
             { device_id => 'IMEI:gc-mem', username => 'um', password => 'pm' });
is($st, 201, ':memory: registers a device');
($st, my $mem) = call(POST => '/contract/exchange', {
    device_id => 'IMEI:gc-mem', session_id => 'm1', msg_id => '1',
    session_start => JSON::PP::true, max_commands => 10,
    devinfo => { './DevInfo/Mod' => 'mem' } });
is($st, 200, ':memory: answers an exchange');
($st, $mem) = call(GET => device_path('IMEI:gc-mem'));
is($mem->{devinfo}{'./DevInfo/Mod'}, 'mem', ':memory: reads back what it wrote');
stop_backend();
start_backend(db => ':memory:');
($st) = call(GET => device_path('IMEI:gc-mem'));
is($st, 404, ':memory: keeps nothing past the process');
stop_backend();
is(scalar(() = glob("$dir/*")), $files, ':memory: writes no database file');
like(do { open my $fh, '<', $log; local $/; <$fh> }, qr/:memory: keeps nothing/,
     ':memory: says at start that it is for tests only');
done_testing;

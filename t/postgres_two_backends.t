#!/usr/bin/perl
#
# Two omadm-backend processes on one PostgreSQL database, hammering the
# same devices at once: the guarantees the SQLite store keeps with its one
# writer hold across processes (row locks in each call's transaction).
#   * both start together on an empty database: the schema is made once
#   * the nonce's compare-and-swap: of two exchanges logging in with the
#     same used_nonce, one through each backend, exactly one wins (200), the
#     other is told 409 "nonce"
#   * a device's queued commands, taken by exchanges through both backends
#     at once, are each handed out exactly once
# Every process (PostgreSQL, the backends, the clients) is started and
# stopped here by PID.  Skipped when PostgreSQL is not installed.

use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG _exit);
use Test::More;
use Time::HiRes qw(sleep time);
use OmadmTest::Postgres;

my $BIN = $ENV{OMADM_BACKEND_BIN} || "$FindBin::Bin/../build/omadm-backend";
plan skip_all => "$BIN not built (run make)" unless -x $BIN;
OmadmTest::Postgres::require_installed();

my $TOKEN = 'operator-token-' . join('', map { int rand 10 } 1 .. 12);
my $KEY   = 'contract-key-' . join('', map { int rand 10 } 1 .. 12);
my $dir = tempdir('omadm-pg-two-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;    # PostgreSQL runs as nobody under root
write_file("$dir/token", "$TOKEN\n");
write_file("$dir/key",   "$KEY\n");

my $json = JSON::PP->new->canonical;
my $pg = OmadmTest::Postgres->new("$dir/pg")->start;
my $url = $pg->url('omadm');
my (@backends, @children);    # [pid, port]

END {
    local $?;
    kill 'KILL', $_ for @children;
    waitpid($_, 0) for @children;
    stop_backend($_) for @backends;
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
    return $s->sockport;
}

sub spawn_backend {
    my ($n) = @_;
    my $port = free_port();
    my $pid = fork // die $!;
    if (!$pid) {
        delete @ENV{qw(OMADM_ADMIN_TOKEN OMADM_CONTRACT_KEY)};
        open STDERR, '>>', "$dir/backend-$n.log" or die $!;
        exec $BIN, '--listen', "127.0.0.1:$port", '--database', $url,
            '--token-file', "$dir/token", '--key-file', "$dir/key"
            or _exit(127);
    }
    return [$pid, $port];
}

sub wait_listening {
    my ($b) = @_;
    for (1 .. 400) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$b->[1]");
        return 0 if waitpid($b->[0], WNOHANG) == $b->[0];
        sleep 0.05;
    }
    return 0;
}

sub stop_backend {
    my ($b) = @_;
    return unless $b->[0];
    kill 'TERM', $b->[0];
    for (1 .. 200) {
        last if waitpid($b->[0], WNOHANG) != 0;
        sleep 0.05;
    }
    kill 'KILL', $b->[0];
    waitpid $b->[0], 0;
    $b->[0] = 0;
}

# call($backend, METHOD, path, body) -> (status, decoded body)
sub call {
    my ($b, $method, $path, $body) = @_;
    my $contract = $path =~ m{^/contract/};
    my $r = HTTP::Tiny->new(timeout => 20, keep_alive => 0)->request($method,
        "http://127.0.0.1:$b->[1]$path", {
            headers => { 'Content-Type' => 'application/json',
                         $contract ? ('X-Omadm-Key' => $KEY)
                                   : (Authorization => "Bearer $TOKEN") },
            $body ? (content => $json->encode($body)) : () });
    return ($r->{status}, eval { decode_json($r->{content}) });
}

sub device_path { my $id = shift; $id =~ s/:/%3A/g; return "/api/v1/devices/$id" }

# Runs $code->($k) in $n forked children at once (each released by the same
# file appearing); the list of their exit codes.
sub together {
    my ($n, $code) = @_;
    my $go = "$dir/go-" . time . "-" . rand;
    for my $k (1 .. $n) {
        my $child = fork // die $!;
        if (!$child) {
            sleep 0.005 until -e $go;
            my $ok = eval { $code->($k); 1 };
            print STDERR $@ unless $ok;
            _exit($ok ? 0 : 1);
        }
        push @children, $child;
    }
    write_file($go, '');
    my @rc;
    for (@children) { waitpid($_, 0); push @rc, $? >> 8 }
    @children = ();
    return @rc;
}

# --- both start at once on the empty database --------------------------------
@backends = (spawn_backend(1), spawn_backend(2));
ok(wait_listening($backends[0]) && wait_listening($backends[1]),
   'two backends started at once on one empty database both come up')
    or BAIL_OUT('backends did not start: ' . join '', map { join "\n", read_lines("$dir/backend-$_.log") } 1, 2);
is($pg->psql('SELECT version FROM schema_migrations'), '5',
   '... the schema made once, recorded once');
my ($A, $B) = @backends;

# --- the nonce's compare-and-swap across the two processes --------------------
my ($DEVICES, $ROUNDS) = (6, 20);
for my $d (1 .. $DEVICES) {
    my ($st) = call($A, POST => '/api/v1/devices',
                    { device_id => "IMEI:two-$d", username => "u$d", password => "p$d" });
    is($st, 201, "device $d registered") or BAIL_OUT('cannot register');
    ($st, my $n) = call($B, POST => '/contract/nonce',
                        { device_id => "IMEI:two-$d", nonce => "n-$d-0" });
    is($n->{nonce}, "n-$d-0", "... its first nonce stored through the other backend");
}

# Each device: round after round, the same login (used_nonce = the nonce
# it holds) sent through both backends at once, both naming the same next
# nonce, which the winner stores for the next round.
my @rc = together(2 * $DEVICES, sub {
    my ($k) = @_;
    my $d = int(($k - 1) / 2) + 1;
    my $side = ($k - 1) % 2;
    my $b = $backends[$side];
    open my $out, '>>', "$dir/cas-$k" or die $!;
    $out->autoflush(1);
    for my $round (1 .. $ROUNDS) {
        my $used = "n-$d-" . ($round - 1);
        # both sides of the device released together, round by round
        write_file("$dir/ready-$d-$round-$side", '');
        sleep 0.002 until -e "$dir/ready-$d-$round-" . (1 - $side);
        my ($st) = call($b, POST => '/contract/exchange', {
            device_id => "IMEI:two-$d", session_id => "s$round-$side",
            msg_id => '1', session_start => JSON::PP::true, max_commands => 5,
            used_nonce => $used, next_nonce => "n-$d-$round" });
        print $out "$round $st\n";
    }
});
is_deeply([ grep { $_ } @rc ], [], 'every client ran its rounds');
my ($both, $none, $other) = (0, 0, 0);
for my $d (1 .. $DEVICES) {
    my %won;
    for my $side (0, 1) {
        for (read_lines("$dir/cas-" . (2 * ($d - 1) + $side + 1))) {
            my ($round, $st) = split / /;
            if ($st == 200) { $won{$round}++ }
            elsif ($st != 409) { $other++; diag("device $d round $round: HTTP $st") }
        }
    }
    for my $round (1 .. $ROUNDS) {
        my $w = $won{$round} // 0;
        $both++ if $w > 1;
        $none++ if $w == 0;
    }
}
is($both, 0, 'the same used_nonce never wins twice, through two processes at once');
is($none, 0, '... and one of the two always wins');
is($other, 0, '... the loser is told 409 (nonce), nothing fails otherwise');

# --- queued commands, handed out once across the two processes ----------------
my $COMMANDS = 60;
my ($st) = call($A, POST => '/api/v1/devices',
                { device_id => 'IMEI:two-queue', username => 'uq', password => 'pq' });
is($st, 201, 'a device for the queue');
my %queued;
for my $i (1 .. $COMMANDS) {
    my ($qst, $c) = call($i % 2 ? $A : $B, POST => device_path('IMEI:two-queue') . '/commands',
                         { verb => 'Get', target => "./q/$i" });
    $queued{$c->{id}} = 1 if $qst == 201;
}
is(scalar keys %queued, $COMMANDS, "$COMMANDS commands queued through both backends");

# Four takers, two on each backend, each its own session: message after
# message asking for one command more (no session start: nothing sent is
# queued again), until the queue is empty.
@rc = together(4, sub {
    my ($k) = @_;
    my $b = $backends[$k % 2];
    open my $out, '>>', "$dir/taken-$k" or die $!;
    $out->autoflush(1);
    for (my $msg = 1; $msg < 1000; $msg++) {
        my ($st, $a) = call($b, POST => '/contract/exchange', {
            device_id => 'IMEI:two-queue', session_id => "taker-$k",
            msg_id => "$msg", max_commands => 1 });
        die "taker $k: HTTP $st\n" unless $st == 200;
        my @ids = map { $_->{id} } @{ $a->{commands} || [] };
        last unless @ids;
        print $out "$_\n" for @ids;
    }
});
is_deeply([ grep { $_ } @rc ], [], 'every taker answered 200 until the queue was empty');
my %count;
$count{$_}++ for map { read_lines("$dir/taken-$_") } 1 .. 4;
is(scalar(grep { $count{$_} > 1 } keys %count), 0, 'no command handed out twice');
is_deeply([ sort keys %count ], [ sort keys %queued ], 'every queued command handed out');
my $by = 0;
for my $k (1 .. 4) { $by++ if read_lines("$dir/taken-$k") }
cmp_ok($by, '>=', 2, "... by several takers ($by of 4)");

stop_backend($_) for @backends;
for my $n (1, 2) {
    my @errors = grep { /error/ } read_lines("$dir/backend-$n.log");
    is_deeply(\@errors, [], "backend $n logged no error");
}
done_testing;

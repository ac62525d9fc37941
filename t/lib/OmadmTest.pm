package OmadmTest;

# The integration harness: a private 0755 directory with certificates, a
# real omadm-backend (its own SQLite db, or with OMADM_TEST_DATABASE=postgresql
# a private PostgreSQL's; its token and contract key) and Debian's
# stock nginx loading build/ngx_http_omadm_module.so from a generated
# config, all on free loopback ports.  Every process is started here and
# stopped here by PID (END block and DESTROY), so a failing test leaves
# nothing running.  OMADM_KEEP=1 keeps the directory for post-mortems.
#
#   my $t = OmadmTest->new(locations => { '/omadm' => { omadm_auth => 'basic' } });
#   $t->start;
#   my $d = $t->device(id => 'IMEI:1', user => 'u', pass => 'p');
#   ...
#   $t->check_error_log;
#
# Options: session_zone => 'zone=omadm:10m ttl=1s' (the http-level
# omadm_session_zone parameters), error_log_level => 'info',
# backends => { '/x-backend/' => $port | { port => $port,
# proxy_read_timeout => '1s', ... } } (directive overrides, undef removes),
# ssl_certificate / ssl_certificate_key => files (default: the
# gen-certs.sh server.crt / server.key in the test directory),
# worker_processes => N (default 2), backend_args => [...] (more
# omadm-backend options), contract_socket => 1 (the backend serves the
# contract on <dir>/contract/contract.sock, apart from the operator API,
# and the internal location proxies to it).

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path ();
use File::Temp qw(tempdir);
use HTTP::Tiny;
use OmadmTest::NoDelay;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use OmadmTest::Device;

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our $NGINX = $ENV{OMADM_NGINX} || '/usr/sbin/nginx';
our $MODULE = "$ROOT/build/ngx_http_omadm_module.so";
our $BACKEND = "$ROOT/build/omadm-backend";
our $SIM = "$ROOT/build/omadm-sim";

# The harness's methods by role, each file adding its own to this package:
# nginx with its configuration and logs, the reference backend with its
# operator API, fakes and the fault proxy in front of the backend, the
# fleet simulator, a private PostgreSQL.  This file keeps what they share: the test directory,
# starting and stopping processes by PID, the END clean-up, small helpers.
use OmadmTest::Nginx;
use OmadmTest::Backend;
use OmadmTest::FaultProxy;
use OmadmTest::Sim;
use OmadmTest::Postgres;

my @LIVE;    # harness objects with processes, for the END block

$SIG{INT} = $SIG{TERM} = sub { exit 130 };   # run END: stop what we started
# a worker dying under a request must fail the test (EPIPE -> 599), not
# kill it before END could stop nginx and the backend
$SIG{PIPE} = 'IGNORE';
# a hung test file must not hang `make test`: give up, END still cleans up
$SIG{ALRM} = sub { Test::More::diag('test file timed out'); exit 124 };

# Skips the whole file unless the binaries have been built.
sub require_binaries {
    for ($MODULE, $BACKEND) {
        plan skip_all => "$_ not built (run make)" unless -e $_;
    }
}

# new(locations => { '/omadm' => {directive => value}, ... },
#     backends => { '/dead-backend/' => $port }, http_conf => '...',
#     server_conf => '...', session_zone => '...', error_log_level => '...',
#     ssl_certificate => $file, ssl_certificate_key => $file)
sub new {
    my ($class, %o) = @_;
    require_binaries();
    my $dir = tempdir('omadm-t-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $dir;    # workers run as nobody: they must reach temp dirs
    my $self = bless {
        dir => $dir, https_port => free_port(), api_port => free_port(),
        locations => { '/omadm' => {} }, backends => {},
        session_zone => 'zone=omadm:10m ttl=5m', error_log_level => 'notice',
        fakes => [], %o,
    }, $class;
    system("$ROOT/scripts/gen-certs.sh", $dir) == 0
        or die "gen-certs.sh failed\n";
    $self->{token} = _random_hex();
    $self->{key} = _random_hex();
    _write("$dir/admin.token", $self->{token}, 0600);
    _write("$dir/contract.key", $self->{key}, 0600);
    push @LIVE, $self;
    alarm($ENV{OMADM_TEST_TIMEOUT} || 120);
    return $self;
}

sub dir { $_[0]{dir} }
sub ca_file { "$_[0]{dir}/ca.crt" }
sub https_port { $_[0]{https_port} }
sub api_port { $_[0]{api_port} }
sub device_url {
    my ($self, $path) = @_;
    return "https://127.0.0.1:$self->{https_port}" . ($path // '/omadm');
}

sub start { my ($self) = @_; $self->start_backend; $self->start_nginx; $self }

# --- processes -------------------------------------------------------------

sub _spawn {
    my ($self, $log, @cmd) = @_;
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    return $pid;
}

sub _wait_until {
    my ($self, $what, $pid, $log, $ready) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        return if $ready->();
        if (waitpid($pid, WNOHANG) == $pid) {
            die "$what exited during startup (status $?):\n" . _slurp($log)
                . _slurp("$self->{dir}/nginx.out");
        }
        sleep 0.05;
    }
    die "$what not ready within 10s:\n" . _slurp($log);
}

# TERM, wait up to 5s, then KILL; always reaps.
sub _stop {
    my ($pid) = @_;
    return unless $pid;
    kill 'TERM', $pid;
    my $deadline = time + 5;
    while (time < $deadline) {
        return if waitpid($pid, WNOHANG) != 0;
        sleep 0.02;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

sub stop {
    my ($self) = @_;
    $self->stop_nginx;
    $self->stop_backend;
    _stop($_) for splice @{ $self->{fakes} || [] };
    $self->stop_postgres;
}

sub DESTROY { my ($self) = @_; local $?; $self->stop }

END {
    my $status = $?;
    for my $t (@LIVE) {
        $t->stop;
        my $ok = $status == 0 && Test::More->builder->is_passing;
        if ($ENV{OMADM_KEEP} || !$ok) {
            Test::More::diag("test directory kept: $t->{dir}");
        } else {
            File::Path::remove_tree($t->{dir});
        }
    }
    @LIVE = ();
    $? = $status;
}

# --- processes and helpers -----------------------------------------------------------------------

my %GIVEN;    # never hand out the same port twice in one test

sub free_port {
    for (1 .. 20) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => 0, Proto => 'tcp', Listen => 1)
            or die "no free port: $!\n";
        my $port = $s->sockport;
        return $port unless $GIVEN{$port}++;
    }
    die "no free port\n";
}

sub _random_hex {
    open my $fh, '<:raw', '/dev/urandom' or die "urandom: $!\n";
    read($fh, my $b, 32) == 32 or die "urandom: short read\n";
    return unpack 'H*', $b;
}

sub _write {
    my ($path, $content, $mode) = @_;
    open my $fh, '>', $path or die "$path: $!\n";
    print $fh $content;
    close $fh or die "$path: $!\n";
    chmod $mode, $path if defined $mode;
}

# The sqlite3 shell on PATH, or undef (tests that read a database with it
# skip without).
sub sqlite3_shell {
    my ($shell) = grep { -x } map { "$_/sqlite3" } split /:/, $ENV{PATH};
    return $shell;
}

# sqlite3($db, $sql): what the shell prints for $sql on database $db,
# without trailing whitespace; dies if the shell fails.
sub sqlite3 {
    my ($db, $text) = @_;
    open my $fh, '-|', sqlite3_shell(), $db, $text or die "sqlite3: $!\n";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    die "sqlite3 failed on: $text\n" if $?;
    $out =~ s/\s+\z//;
    return $out;
}

sub _slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

# parallel($n, sub { my $i = shift; ...; return $text }): runs the sub in
# $n forked children at once and returns their texts, in order (a child
# that died returns "died: <error>").  Children leave with _exit, so they
# never run the harness's END.
sub parallel {
    my ($self, $n, $code) = @_;
    my $base = "$self->{dir}/par-" . ++$self->{pars};
    my @pids;
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!\n";
        if ($pid == 0) {
            $SIG{ALRM} = 'DEFAULT';
            my $r = eval { $code->($i) } // "died: $@";
            _write("$base-$i", $r);
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;    # not wait(): nginx is a child too
    return map { _slurp("$base-$_") } 1 .. $n;
}

# open sockets of a process (a worker's client and upstream connections
# plus the listeners)
sub sockets {
    my ($pid) = @_;
    return scalar grep { (readlink($_) // '') =~ /^socket:/ } glob "/proc/$pid/fd/*";
}

# resident memory of a process, in kB
sub vm_rss {
    my ($pid) = @_;
    return (_slurp("/proc/$pid/status") =~ /^VmRSS:\s+(\d+)/m)[0] // 0;
}

# Runs the openssl command line (no shell), its output appended to
# <dir>/openssl.log; dies with that log when it fails.
sub openssl {
    my ($self, @args) = @_;
    my $log = "$self->{dir}/openssl.log";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec('openssl', @args) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "openssl @args failed:\n" . _slurp($log) . "\n" if $?;
}

1;

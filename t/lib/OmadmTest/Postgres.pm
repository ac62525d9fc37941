package OmadmTest::Postgres;

# A private PostgreSQL for one test: a cluster made with initdb under a
# directory of the test and run by its own postmaster (our child, stopped
# by PID like the other roles) on a free loopback port, trust
# authentication for the one user `omadm`, its socket in that directory.
# PostgreSQL refuses to run as root: under root it runs as nobody.  Nothing
# of the system's cluster or service is used.  Self-contained, so that
# tests without the OmadmTest harness (t/backend.t) use it too.
#
#   my $pg = OmadmTest::Postgres->new("$dir/pg")->start;
#   my $url = $pg->url('omadm');       # CREATE DATABASE on first use
#   $pg->psql('SELECT 1', 'omadm');
#   $pg->stop;                          # also at DESTROY
#
# OMADM_TEST_DATABASE=postgresql makes the harness's backends run on it
# (OmadmTest::backend_database); tests that read the SQLite file
# themselves call sqlite_only() and are skipped then.

use strict;
use warnings;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

our $BIN = $ENV{OMADM_PG_BIN} || '/usr/lib/postgresql/15/bin';

sub enabled { ($ENV{OMADM_TEST_DATABASE} // 'sqlite') eq 'postgresql' }

sub installed { -x "$BIN/postgres" && -x "$BIN/initdb" && -x "$BIN/psql" }

# Skips the whole file when the backends run on PostgreSQL: for tests that
# read or change the SQLite file themselves.
sub sqlite_only {
    my ($why) = @_;
    Test::More::plan(skip_all => 'SQLite only (' . ($why // 'reads the database file')
                     . '): OMADM_TEST_DATABASE=postgresql') if enabled();
}

# Skips the whole file unless PostgreSQL's binaries are installed.
sub require_installed {
    Test::More::plan(skip_all => "PostgreSQL not installed ($BIN)") unless installed();
}

sub new {
    my ($class, $dir) = @_;
    return bless { dir => $dir, databases => {} }, $class;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub pid { $_[0]{pid} }

# The user the cluster runs as: ourselves, or nobody under root.
sub _ids {
    return ($>, $) + 0) if $> != 0;
    my (undef, undef, $uid, $gid) = getpwnam('nobody') or die "no user nobody\n";
    return ($uid, $gid);
}

# Runs @cmd as the cluster's user, output appended to $log; its PID.
sub _spawn {
    my ($self, $log, @cmd) = @_;
    my ($uid, $gid) = _ids();
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        if ($> == 0) {
            POSIX::setgid($gid) or POSIX::_exit(126);
            POSIX::setuid($uid) or POSIX::_exit(126);
        }
        $ENV{HOME} = $self->{dir};
        exec @cmd or POSIX::_exit(127);
    }
    return $pid;
}

sub _slurp {
    open my $fh, '<', $_[0] or return '';
    local $/;
    return scalar <$fh>;
}

sub _free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1) or die "no free port: $!\n";
    return $s->sockport;
}

# Makes the cluster on first use and starts its postmaster; returns $self.
sub start {
    my ($self) = @_;
    return $self if $self->{pid};
    my $dir = $self->{dir};
    unless (-d "$dir/data") {
        mkdir $dir or die "$dir: $!\n" unless -d $dir;
        my ($uid, $gid) = _ids();
        chown $uid, $gid, $dir or die "chown $dir: $!\n";
        chmod 0700, $dir;
        # -N: no fsync while the cluster is made (the server itself syncs)
        my $init = $self->_spawn("$dir/initdb.log", "$BIN/initdb", '-D', "$dir/data",
            '-U', 'omadm', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N');
        waitpid($init, 0);
        die "initdb failed:\n" . _slurp("$dir/initdb.log") if $?;
    }
    $self->{port} //= _free_port();
    $self->{pid} = $self->_spawn("$dir/postgres.log", "$BIN/postgres",
        '-D', "$dir/data", '-k', $dir, '-p', $self->{port},
        '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200');
    my $deadline = time + 30;
    while (time < $deadline) {
        return $self if defined $self->psql('SELECT 1', 'postgres', 1);
        if (waitpid($self->{pid}, POSIX::WNOHANG()) == $self->{pid}) {
            delete $self->{pid};
            die "postgres exited during startup:\n" . _slurp("$dir/postgres.log");
        }
        sleep 0.1;
    }
    die "postgres not ready within 30s:\n" . _slurp("$dir/postgres.log");
}

# Fast shutdown (SIGINT: clients are disconnected) by PID; KILL after 10 s.
sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return $self;
    kill 'INT', $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        return $self if waitpid($pid, POSIX::WNOHANG()) != 0;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return $self;
}

sub DESTROY { local $?; $_[0]->stop }

# psql($sql, $database): what psql prints (unaligned, tuples only); dies on
# an error (returns undef instead with $quiet).
sub psql {
    my ($self, $sql, $db, $quiet) = @_;
    $db //= 'omadm';
    my $pid = open my $fh, '-|';
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', '/dev/null' if $quiet;
        exec "$BIN/psql", '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
            '-h', '127.0.0.1', '-p', $self->{port}, '-U', 'omadm', '-d', $db,
            '-c', $sql or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    if ($?) {
        return undef if $quiet;
        die "psql failed on: $sql\n";
    }
    $out =~ s/\n\z//;
    return $out;
}

# A database of the cluster (created on first use) as a libpq URL: every
# backend given the same name shares it.
sub url {
    my ($self, $name) = @_;
    $name //= 'omadm';
    $self->start;
    $self->psql(qq{CREATE DATABASE "$name"}, 'postgres') unless $self->{databases}{$name}++;
    return "postgresql://omadm\@127.0.0.1:$self->{port}/$name";
}

package OmadmTest;

# The harness's side: $t->postgres is the test's cluster (<dir>/pg), started
# on first use and stopped with the other roles.

sub postgres {
    my ($self) = @_;
    return ($self->{postgres} //= OmadmTest::Postgres->new("$self->{dir}/pg"))->start;
}

sub stop_postgres {
    my ($self) = @_;
    $self->{postgres}->stop if $self->{postgres};
    return $self;
}

# What start_backend passes as --database.
sub backend_database {
    my ($self) = @_;
    return OmadmTest::Postgres::enabled() ? $self->postgres->url
                                          : "$self->{dir}/omadm.db";
}

1;

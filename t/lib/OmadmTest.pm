package OmadmTest;

# The integration harness: a private 0755 directory with certificates, a
# real omadm-backend (its own SQLite db, token and contract key) and Debian's
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
# omadm-backend options).

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

my @LIVE;    # harness objects with processes, for the END block

# Directives of a device location, in output order; a test overrides any
# of them per location (undef removes one).
my @DEVICE_DEFAULTS = (
    [ omadm                  => 'omadm' ],
    [ omadm_backend          => '/omadm-backend/' ],
    [ omadm_auth             => 'md5 basic' ],
    [ omadm_challenge        => 'md5' ],
    [ omadm_max_message_size => '1m' ],
);

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

sub start_backend {
    my ($self) = @_;
    my $d = $self->{dir};
    $self->{backend_pid} = $self->_spawn("$d/backend.log", $BACKEND,
        '--listen', "127.0.0.1:$self->{api_port}", '--db', "$d/omadm.db",
        '--token-file', "$d/admin.token", '--key-file', "$d/contract.key",
        @{ $self->{backend_args} || [] });
    $self->_wait_until('backend', $self->{backend_pid}, "$d/backend.log", sub {
        my $r = HTTP::Tiny->new(timeout => 1)->get($self->api_url('/devices'),
            { headers => { Authorization => "Bearer $self->{token}" } });
        return $r->{status} != 599;
    });
    return $self;
}

sub stop_backend {
    my ($self) = @_;
    _stop(delete $self->{backend_pid});
    return $self;
}

sub start_nginx {
    my ($self) = @_;
    my $d = $self->{dir};
    _write("$d/nginx.conf", $self->nginx_conf, 0600);
    mkdir "$d/tmp";
    $self->{nginx_pid} = $self->_spawn("$d/nginx.out", $NGINX, '-p', "$d/",
        '-c', "$d/nginx.conf", '-e', "$d/error.log");
    $self->_wait_until('nginx', $self->{nginx_pid}, "$d/error.log", sub {
        return IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $self->{https_port}, Timeout => 1) ? 1 : 0;
    });
    return $self;
}

sub stop_nginx {
    my ($self) = @_;
    _stop(delete $self->{nginx_pid});
    return $self;
}

# nginx -s reload, then wait until the new generation of workers started.
sub reload_nginx {
    my ($self) = @_;
    my $log = "$self->{dir}/error.log";
    my $before = () = _slurp($log) =~ /start worker process/g;
    system($NGINX, '-p', "$self->{dir}/", '-c', "$self->{dir}/nginx.conf",
           '-e', $log, '-s', 'reload') == 0 or die "nginx -s reload failed\n";
    my $deadline = time + 10;
    while (time < $deadline) {
        my $now = () = _slurp($log) =~ /start worker process/g;
        return $self if $now > $before;
        sleep 0.05;
    }
    die "nginx did not reload within 10s\n";
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
}

# nginx -t on a configuration text (written to test-N.conf in the test
# directory): returns (exit status, everything nginx printed).
sub nginx_test {
    my ($self, $conf) = @_;
    my $d = $self->{dir};
    my $file = "$d/test-" . ++$self->{conf_tests} . '.conf';
    mkdir "$d/tmp";
    _write($file, $conf, 0600);
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec($NGINX, '-t', '-p', "$d/", '-c', $file, '-e', "$d/test-error.log")
            or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

# A fake upstream on a free loopback port, in a forked child stopped by
# PID with the rest.  It reads each whole HTTP request, appends its request
# line to <dir>/fake-<port>.log (with keep => 1 it also writes the whole
# request to <dir>/fake-<port>-<n>.req, see fake_bodies) and then, by
# `answer`:
#   'hang'   - never answers (keeps the connection open);
#   a string - sends it verbatim as the whole HTTP response and closes.
# Returns the port.
sub fake_upstream {
    my ($self, %o) = @_;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => 0, Proto => 'tcp', Listen => 16, ReuseAddr => 1)
        or die "fake upstream: $!\n";
    my $port = $listen->sockport;
    my $log = "$self->{dir}/fake-$port.log";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        # never run the parent's handlers or END blocks: TERM just ends us
        $SIG{$_} = 'DEFAULT' for qw(TERM INT ALRM);
        my @held;
        my $n = 0;
        while (my $c = $listen->accept) {
            my $req = _read_request($c);
            _write("$self->{dir}/fake-$port-" . ++$n . '.req', $req) if $o{keep};
            if (open my $fh, '>>', $log) {
                print $fh ((split /\r?\n/, $req)[0] // '', "\n");
                close $fh;
            }
            if ($o{answer} eq 'hang') {
                push @held, $c;
                next;
            }
            print $c $o{answer};
            close $c;
        }
        POSIX::_exit(0);
    }
    close $listen;
    push @{ $self->{fakes} }, $pid;
    return $port;
}

# the request lines a fake upstream has seen so far
sub fake_requests {
    my ($self, $port) = @_;
    return grep { length } split /\n/, _slurp("$self->{dir}/fake-$port.log");
}

# the bodies of the requests a fake upstream with keep => 1 has seen, in
# order
sub fake_bodies {
    my ($self, $port) = @_;
    my @files = sort { ($a =~ /-(\d+)\.req$/)[0] <=> ($b =~ /-(\d+)\.req$/)[0] }
                glob "$self->{dir}/fake-$port-*.req";
    return map { (split /\r\n\r\n/, _slurp($_), 2)[1] // '' } @files;
}

# headers, then Content-Length bytes of body (nginx's proxy sends one)
sub _read_request {
    my ($c) = @_;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        sysread($c, $buf, 4096, length $buf) or return $buf;
    }
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
    while (defined $len && length($body) < $len) {
        sysread($c, $body, 4096, length $body) or last;
    }
    return "$head\r\n\r\n$body";
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

# --- configuration -----------------------------------------------------------

sub _location_conf {
    my ($self, $path, $over) = @_;
    my %over = %$over;
    my @lines;
    for my $d (@DEVICE_DEFAULTS) {
        my ($name, $value) = @$d;
        $value = delete $over{$name} if exists $over{$name};
        push @lines, "$name $value;" if defined $value;
    }
    for my $name (sort keys %over) {
        push @lines, "$name $over{$name};" if defined $over{$name};
    }
    return "        location = $path {\n"
        . join('', map { "            $_\n" } @lines) . "        }\n";
}

# The internal location a device location's omadm_backend points at; $to
# is a port or { port => $port, directive => value } (undef removes one).
sub backend_location {
    my ($self, $prefix, $to) = @_;
    my %over = ref $to ? %$to : (port => $to);
    my $port = delete $over{port};
    my @lines = (
        [ internal => undef ],
        [ proxy_pass => "http://127.0.0.1:$port/contract/" ],
        [ proxy_method => 'POST' ],
        [ proxy_pass_request_headers => 'off' ],
        [ proxy_set_header => 'Content-Type application/json' ],
        [ proxy_set_header => "X-Omadm-Key \"$self->{key}\"" ],
        [ proxy_connect_timeout => '2s' ],
        [ proxy_read_timeout => '5s' ],
        [ subrequest_output_buffer_size => '1m' ],
    );
    my $conf = '';
    for my $l (@lines) {
        my ($name, $value) = @$l;
        if (exists $over{$name}) {
            $value = delete $over{$name};
            next unless defined $value;
        }
        $conf .= "            $name" . (defined $value ? " $value" : '') . ";\n";
    }
    $conf .= "            $_ $over{$_};\n" for grep { defined $over{$_} } sort keys %over;
    return "        location $prefix {\n$conf        }\n";
}

sub nginx_conf {
    my ($self) = @_;
    my $d = $self->{dir};
    my $locs = join '', map { $self->_location_conf($_, $self->{locations}{$_}) }
                        sort keys %{ $self->{locations} };
    my %backends = ('/omadm-backend/' => $self->{api_port},
                    %{ $self->{backends} });
    $locs .= join '', map { $self->backend_location($_, $backends{$_}) }
                      sort keys %backends;
    my $http = $self->{http_conf} // '';
    my $server = $self->{server_conf} // '';
    my $crt = $self->{ssl_certificate} // "$d/server.crt";
    my $key = $self->{ssl_certificate_key} // "$d/server.key";
    return <<"EOF";
load_module $MODULE;
daemon off;
worker_processes ${\ ($self->{worker_processes} // 2)};
error_log $d/error.log $self->{error_log_level};
pid $d/nginx.pid;
events { worker_connections 256; }
http {
    log_format omadm '\$remote_addr "\$request_method \$uri" \$status '
                     'dev=\$omadm_device_id sid=\$omadm_session_id '
                     'msg=\$omadm_msg_id auth=\$omadm_auth';
    access_log $d/access.log omadm;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    omadm_session_zone $self->{session_zone};
$http
    server {
        listen 127.0.0.1:$self->{https_port} ssl;
        server_name localhost;
        ssl_certificate $crt;
        ssl_certificate_key $key;
$server
$locs    }
}
EOF
}

# --- logs ----------------------------------------------------------------------

sub error_log { _slurp("$_[0]{dir}/error.log") }
sub access_log { _slurp("$_[0]{dir}/access.log") }
sub backend_log { _slurp("$_[0]{dir}/backend.log") }

# how many contract calls of one kind (auth|nonce|exchange) the backend
# has logged so far
sub backend_calls {
    my ($self, $op) = @_;
    sleep 0.2;    # the backend may log just after it answered
    my $n = () = $self->backend_log =~ m{POST /contract/$op\b}g;
    return $n;
}

# nginx logs a request after the client has its response: poll a little.
sub access_log_like {
    my ($self, $re, $name) = @_;
    my $deadline = time + 3;
    my $log;
    do {
        $log = $self->access_log;
        return pass($name) if $log =~ $re;
        sleep 0.05;
    } while (time < $deadline);
    fail($name);
    diag("access log:\n$log");
}

# Every test ends with this: no [alert], [crit] or [emerg] (a crashed
# worker shows up as "[alert] ... exited on signal").  $expected: a regexp
# for the lines a test caused on purpose (a worker it killed).
sub check_error_log {
    my ($self, $expected) = @_;
    my @bad = grep { /\[(alert|crit|emerg)\]/ && !($expected && /$expected/) }
              split /\n/, $self->error_log;
    ok(!@bad, 'error log has no alert/crit/emerg')
        or diag(join "\n", @bad);
}

# --- operator API ----------------------------------------------------------------

sub api_url { "http://127.0.0.1:$_[0]{api_port}/api/v1" . ($_[1] // '') }

# api(METHOD, '/devices', {json}) -> ($status, $decoded_or_raw)
sub api {
    my ($self, $method, $path, $body) = @_;
    my $r = OmadmTest::NoDelay->new(timeout => 10)->request($method,
        $self->api_url($path), {
            headers => { Authorization => "Bearer $self->{token}",
                         ($body ? ('Content-Type' => 'application/json') : ()) },
            ($body ? (content => encode_json($body)) : ()) });
    my $data = eval { decode_json($r->{content}) } // $r->{content};
    return ($r->{status}, $data);
}

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

sub register_device {
    my ($self, $id, $user, $pass) = @_;
    my ($st, $d) = $self->api(POST => '/devices',
        { device_id => $id, username => $user, password => $pass });
    die "register $id: $st " . (ref $d ? encode_json($d) : $d) . "\n"
        unless $st == 201;
    return $d;
}

sub get_device {
    my ($self, $id) = @_;
    return ($self->api(GET => '/devices/' . uri_escape($id)))[1];
}

# queue_command($id, {verb, target, data?, format?, type?}) -> command id
sub queue_command {
    my ($self, $id, $cmd) = @_;
    my ($st, $d) = $self->api(POST => '/devices/' . uri_escape($id)
                                      . '/commands', $cmd);
    die "queue on $id: $st " . (ref $d ? encode_json($d) : $d) . "\n"
        unless $st == 201;
    return $d->{id};
}

sub get_command {
    my ($self, $id, $cid) = @_;
    return ($self->api(GET => '/devices/' . uri_escape($id) . '/commands/'
                              . uri_escape($cid)))[1];
}

# --- devices -------------------------------------------------------------------------

# A device client for this server (see OmadmTest::Device); registers it
# with the backend first unless register => 0.
sub device {
    my ($self, %o) = @_;
    my $register = exists $o{register} ? delete $o{register} : 1;
    my $path = delete $o{path};
    $self->register_device($o{id}, $o{user}, $o{pass}) if $register;
    return OmadmTest::Device->new(url => $self->device_url($path),
                                  ca => $self->ca_file, %o);
}

# A raw HTTPS client that trusts the test CA (for HTTP-level tests).
sub https {
    my ($self, %o) = @_;
    return HTTP::Tiny->new(timeout => 10, keep_alive => 0, verify_SSL => 1,
        SSL_options => { SSL_ca_file => $self->ca_file }, %o);
}

# --- helpers -----------------------------------------------------------------------

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

sub _slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

# --- faults and load (faults helper) -----------------------------------------
#
# A fault proxy between nginx and the real backend, the simulator, and
# what the fault tests read of processes.

# fault_proxy(to => $backend_port): a loopback HTTP proxy in a forked
# child (one grandchild per connection), stopped by PID with the rest.
# Per request it reads <dir>/proxy-<port>.mode (see proxy_mode) and then
# waits `delay` seconds, answers `status` itself (a 5xx, no forwarding),
# or forwards to the backend and relays the answer after `delay_answer`
# more seconds (the backend did the work; its answer is late); with
# only => 'exchange' (or auth, nonce) the mode applies to that call alone.
# It logs "+ <request line>" when a request arrives and "- <what>" when it
# is done to <dir>/proxy-<port>.log.  Returns the port; route the device
# location's backend through it with set_backend before start.
sub fault_proxy {
    my ($self, %o) = @_;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => 0, Proto => 'tcp', Listen => 128, ReuseAddr => 1)
        or die "fault proxy: $!\n";
    my $port = $listen->sockport;
    my $to = $o{to} // $self->{api_port};
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        my %kids;
        $SIG{$_} = 'DEFAULT' for qw(INT ALRM);
        $SIG{CHLD} = sub { while ((my $k = waitpid(-1, WNOHANG)) > 0) { delete $kids{$k} } };
        $SIG{TERM} = sub { kill 'KILL', keys %kids; POSIX::_exit(0) };
        while (1) {
            my $c = $listen->accept or next;
            my $k = fork;
            if (defined $k && $k == 0) {
                $SIG{$_} = 'DEFAULT' for qw(TERM CHLD);
                close $listen;
                $self->_proxy_one($port, $to, $c);
                POSIX::_exit(0);
            }
            $kids{$k} = 1 if $k;
            close $c;
        }
    }
    close $listen;
    push @{ $self->{fakes} }, $pid;
    return $port;
}

# set_backend('/omadm-backend/', $port | { port => $port, ... }): as the
# backends option of new, once the port is known
sub set_backend {
    my ($self, $prefix, $to) = @_;
    $self->{backends}{$prefix} = $to;
    return $self;
}

# proxy_mode($port, delay => 6) / (status => 500) / () for plain forwarding
sub proxy_mode {
    my ($self, $port, %m) = @_;
    my $f = "$self->{dir}/proxy-$port.mode";
    _write("$f.tmp", join('', map { "$_=$m{$_}\n" } sort keys %m));
    rename "$f.tmp", $f or die "$f: $!\n";
}

# the proxy's log lines: ("+ POST /contract/nonce HTTP/1.0", "- 200", ...)
sub proxy_log {
    my ($self, $port) = @_;
    return grep { length } split /\n/, _slurp("$self->{dir}/proxy-$port.log");
}

# requests the proxy has received, and the most it held at once
sub proxy_stats {
    my ($self, $port) = @_;
    my ($n, $cur, $max) = (0, 0, 0);
    for ($self->proxy_log($port)) {
        if (/^\+/) { $n++; $cur++; $max = $cur if $cur > $max } else { $cur-- }
    }
    return { requests => $n, max_in_flight => $max, in_flight => $cur };
}

sub _proxy_one {
    my ($self, $port, $to, $c) = @_;
    my $log = sub {
        open my $fh, '>>', "$self->{dir}/proxy-$port.log" or return;
        syswrite $fh, "$_[0]\n";
    };
    my $req = _read_request($c);
    $log->('+ ' . ((split /\r?\n/, $req)[0] // ''));
    my %m = map { /^(\w+)=(.*)$/ ? ($1, $2) : () }
            split /\n/, _slurp("$self->{dir}/proxy-$port.mode");
    %m = () if $m{only} && $req !~ m{^POST \S*/$m{only}\b};    # one op only
    sleep $m{delay} if $m{delay};
    # "-" goes to the log before the answer: nginx may start the next
    # call as soon as it has it
    if ($m{status}) {
        $log->("- $m{status}");
        print $c "HTTP/1.0 $m{status} Fault\r\nContent-Type: text/plain\r\n"
            . "Content-Length: 6\r\nConnection: close\r\n\r\nfault\n";
        close $c;
        return;
    }
    my $b = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $to,
                                  Timeout => 5);
    if (!$b) { close $c; return $log->('- backend down') }
    print $b $req;
    my $answer = '';
    while (sysread($b, my $chunk, 65536)) { $answer .= $chunk }
    sleep $m{delay_answer} if $m{delay_answer};
    $log->('- ' . (($answer =~ m{^HTTP/\S+ (\d+)}) ? $1 : 'no answer'));
    print $c $answer;
    close $c;
}

our $SIM = "$ROOT/build/omadm-sim";

# start_sim(devices => 20, verify => 2, ...) runs build/omadm-sim --json
# against this server in the background (options as its command line,
# underscores for dashes, undef for a flag; path => '/x' for another
# location, url => '...' for another server);
# wait_sim returns its decoded JSON with {exit} and {stderr} added.
sub start_sim {
    my ($self, %o) = @_;
    my $n = ++$self->{sims};
    my $url = delete $o{url} // $self->device_url(delete $o{path} // '/omadm');
    my @args = ('--url', $url,
                '--ca', $self->ca_file, '--api', $self->api_url,
                '--token-file', "$self->{dir}/admin.token", '--json');
    delete $o{path};
    for my $k (sort keys %o) {    # undef: a flag without argument
        (my $opt = "--$k") =~ tr/_/-/;
        push @args, $opt, (defined $o{$k} ? $o{$k} : ());
    }
    my $out = "$self->{dir}/sim-$n";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$out.json";
        open STDERR, '>', "$out.err";
        exec $SIM, @args or POSIX::_exit(127);
    }
    $self->{sim_out}{$pid} = $out;
    push @{ $self->{fakes} }, $pid;
    return $pid;
}

sub wait_sim {
    my ($self, $pid, $timeout) = @_;
    my $deadline = time + ($timeout // 120);
    while ($self->sim_running($pid)) {
        if (time > $deadline) { kill 'KILL', $pid; last }
        sleep 0.05;
    }
    waitpid($pid, 0) if $self->sim_running($pid);
    my $exit = (delete $self->{sim_exit}{$pid} // $?) >> 8;
    @{ $self->{fakes} } = grep { $_ != $pid } @{ $self->{fakes} };
    my $out = delete $self->{sim_out}{$pid};
    my $json = eval { decode_json(_slurp("$out.json")) } // {};
    $json->{exit} = $exit;
    $json->{stderr} = _slurp("$out.err");
    return $json;
}

# whether a simulator has printed its result (also from a forked child,
# which cannot waitpid for it)
sub sim_done { my ($self, $pid) = @_; return -s "$self->{sim_out}{$pid}.json" }

# whether a simulator started by start_sim is still running (it has not
# reached its verify step if it is still playing sessions)
sub sim_running {
    my ($self, $pid) = @_;
    return 0 if exists $self->{sim_exit}{$pid};
    my $r = waitpid($pid, WNOHANG);
    $self->{sim_exit}{$pid} = $? if $r == $pid;
    return $r == 0;
}

sub run_sim { my ($self, %o) = @_; return $self->wait_sim($self->start_sim(%o)) }

# The guarantee of every fault test, as counts: the simulator exited 0,
# every device did its sessions, and --verify found each of the
# devices x K commands correct exactly once.
sub check_sim {
    my ($self, $r, %o) = @_;
    my ($n, $m, $k, $what) = @o{qw(devices sessions verify name)};
    $what = $what ? "$what: " : '';
    my $v = $r->{verify} || {};
    is($r->{exit}, 0, "${what}simulator exit 0")
        or diag("simulator stderr:\n" . substr($r->{stderr} // '', -3000));
    is($r->{sessions_completed}, $n * $m, "${what}sessions completed == $n x $m");
    is($r->{sessions_failed}, 0, "${what}no session failed");
    return unless $k;
    is($v->{commands}, $n * $k, "${what}verify: $n x $k commands queued");
    is($v->{correct}, $n * $k, "${what}verify: every command correct");
    is(($v->{wrong} // -1) + ($v->{missing} // -1) + ($v->{duplicated} // -1), 0,
       "${what}verify: wrong == missing == duplicated == 0")
        or diag(explain $v);
}

# how often the simulator saw an HTTP status (e.g. 503)
sub sim_status { my ($r, $code) = @_; return ($r->{http_status} || {})->{$code} // 0 }

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

sub backend_pid { $_[0]{backend_pid} }
sub nginx_pid { $_[0]{nginx_pid} }

# SIGKILL the backend (no clean shutdown); start_backend restarts it on the
# same port and database.
sub kill_backend {
    my ($self) = @_;
    my $pid = delete $self->{backend_pid} or return;
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# the nginx master's children (workers; cache processes if any)
sub nginx_workers {
    my ($self) = @_;
    my $master = $self->{nginx_pid} or return;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my ($pid, $ppid) = _slurp($stat) =~ /^(\d+) \(.*\) \S+ (\d+)/s or next;
        push @pids, $pid if $ppid == $master;
    }
    return sort { $a <=> $b } @pids;
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

1;

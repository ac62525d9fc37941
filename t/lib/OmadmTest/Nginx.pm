package OmadmTest;

# The harness's nginx: its generated configuration (device locations,
# backend locations), starting, reloading and stopping it, its logs, and
# the devices that talk to it.
# Loaded by OmadmTest.pm: these are methods of OmadmTest, and they use its
# imports and package variables.

use strict;
use warnings;

our ($ROOT, $NGINX, $MODULE, $BACKEND, $SIM);

# Directives of a device location, in output order; a test overrides any
# of them per location (undef removes one).
my @DEVICE_DEFAULTS = (
    [ omadm                  => 'omadm' ],
    [ omadm_backend          => '/omadm-backend/' ],
    [ omadm_auth             => 'md5 basic' ],
    [ omadm_challenge        => 'md5' ],
    [ omadm_max_message_size => '1m' ],
);

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
# is a port (or "unix:/path") or { port => $port, directive => value }
# (undef removes one).
sub backend_location {
    my ($self, $prefix, $to) = @_;
    my %over = ref $to ? %$to : (port => $to);
    my $port = delete $over{port};
    my $upstream = $port =~ /^unix:/ ? "$port:" : "127.0.0.1:$port";
    my @lines = (
        [ internal => undef ],
        [ proxy_pass => "http://$upstream/contract/" ],
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
    my %backends = ('/omadm-backend/' => $self->contract_upstream,
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

sub error_log { _slurp("$_[0]{dir}/error.log") }

sub access_log { _slurp("$_[0]{dir}/access.log") }

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

sub nginx_pid { $_[0]{nginx_pid} }

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

1;

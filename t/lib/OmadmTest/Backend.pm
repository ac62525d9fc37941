package OmadmTest;

# The harness's reference backend: starting and stopping (or killing)
# build/omadm-backend, its request log, and its operator API.
# Loaded by OmadmTest.pm: these are methods of OmadmTest, and they use its
# imports and package variables.

use strict;
use warnings;

our ($ROOT, $NGINX, $MODULE, $BACKEND, $SIM);

sub start_backend {
    my ($self) = @_;
    my $d = $self->{dir};
    my @contract = $self->{contract_socket}
        ? ('--contract-listen', $self->contract_upstream) : ();
    $self->{backend_pid} = $self->_spawn("$d/backend.log", $BACKEND,
        '--listen', "127.0.0.1:$self->{api_port}", '--database', $self->backend_database,
        '--token-file', "$d/admin.token", '--key-file', "$d/contract.key",
        @contract, @{ $self->{backend_args} || [] });
    $self->_wait_until('backend', $self->{backend_pid}, "$d/backend.log", sub {
        my $r = HTTP::Tiny->new(timeout => 1)->get($self->api_url('/devices'),
            { headers => { Authorization => "Bearer $self->{token}" } });
        return $r->{status} != 599;
    });
    return $self;
}

# Where nginx reaches the contract: the operator API's port, or with
# contract_socket "unix:<dir>/contract/contract.sock".  The directory lets
# only nginx's workers (group nogroup when we are root) reach the socket,
# which the backend makes 0660; setgid, so the socket gets its group.
sub contract_upstream {
    my ($self) = @_;
    return $self->{api_port} unless $self->{contract_socket};
    my $dir = "$self->{dir}/contract";
    unless (-d $dir) {
        mkdir $dir or die "$dir: $!\n";
        if ($> == 0) {
            chown 0, scalar(getgrnam('nogroup')), $dir or die "chown $dir: $!\n";
            chmod 02750, $dir;
        } else {
            chmod 0700, $dir;
        }
    }
    return "unix:$dir/contract.sock";
}

sub stop_backend {
    my ($self) = @_;
    _stop(delete $self->{backend_pid});
    return $self;
}

sub backend_log { _slurp("$_[0]{dir}/backend.log") }

# how many contract calls of one kind (auth|nonce|exchange) the backend
# has logged so far
sub backend_calls {
    my ($self, $op) = @_;
    sleep 0.2;    # the backend may log just after it answered
    my $n = () = $self->backend_log =~ m{POST /contract/$op\b}g;
    return $n;
}

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

sub backend_pid { $_[0]{backend_pid} }

# SIGKILL the backend (no clean shutdown); start_backend restarts it on the
# same port and database.
sub kill_backend {
    my ($self) = @_;
    my $pid = delete $self->{backend_pid} or return;
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

1;

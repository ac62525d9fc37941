package OmadmTest;

# Fakes and faults between nginx and the backend: fake upstreams that
# answer what a test says, and a fault proxy in front of the real backend
# that delays, fails or forwards each call.
# Loaded by OmadmTest.pm: these are methods of OmadmTest, and they use its
# imports and package variables.

use strict;
use warnings;

our ($ROOT, $NGINX, $MODULE, $BACKEND, $SIM);

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

1;

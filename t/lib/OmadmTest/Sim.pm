package OmadmTest;

# The fleet simulator: build/omadm-sim run against the harness's server,
# its JSON report, and the checks the fault tests make of it.
# Loaded by OmadmTest.pm: these are methods of OmadmTest, and they use its
# imports and package variables.

use strict;
use warnings;

our ($ROOT, $NGINX, $MODULE, $BACKEND, $SIM);

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

1;

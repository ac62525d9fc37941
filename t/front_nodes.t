#!/usr/bin/perl
# The shipped front (scripts/front.conf.in: plain nginx, no module) before
# two device nodes (omadm_node_id n1 and n2, omadm_server_id the front's
# URL) on one backend.  omadm-sim --verify plays its fleet through the
# front: a session's follow-ups come back to the node its RespURI names
# (no node challenges a session twice), both nodes take sessions, and
# when node n2 is killed mid-run and started again every queued command
# still ends exactly once with the device's answer, n1 taking n2's
# sessions over with one re-authentication each, and n2 back in service
# takes sessions again.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use OmadmTest;

my $front_port = OmadmTest::free_port();
my $front_url = "https://127.0.0.1:$front_port/omadm";
my $status = "        location = /status {\n            omadm_status;\n"
           . "            allow 127.0.0.1;\n            deny all;\n        }\n";
sub node_conf {
    my ($name) = @_;
    return (http_conf => "    omadm_node_id $name;\n    omadm_server_id $front_url;\n",
            server_conf => $status);
}

my $n1 = OmadmTest->new(node_conf('n1'))->start;
# n2: its own nginx and zone, n1's backend and certificate
my $n2 = OmadmTest->new(node_conf('n2'),
                        ssl_certificate => $n1->dir . '/server.crt',
                        ssl_certificate_key => $n1->dir . '/server.key');
$n2->{api_port} = $n1->api_port;
$n2->{key} = $n1->{key};
$n2->start_nginx;

# the front, from the file the README shows
my $dir = $n1->dir;
my $conf = OmadmTest::_slurp("$OmadmTest::ROOT/scripts/front.conf.in");
my %fill = (STATE => $dir, HTTPS_PORT => $front_port,
            NODE1_PORT => $n1->https_port, NODE2_PORT => $n2->https_port,
            SERVER_CRT => "$dir/server.crt", SERVER_KEY => "$dir/server.key",
            NODE_CA => $n1->ca_file);
$conf =~ s/@(\w+)@/$fill{$1} \/\/ die "front.conf.in: no value for \@$1\@\n"/ge;
OmadmTest::_write("$dir/front.conf", $conf, 0600);
my $front = $n1->_spawn("$dir/front.out", $OmadmTest::NGINX, '-p', "$dir/",
                        '-c', "$dir/front.conf", '-e', "$dir/front-error.log");
push @{ $n1->{fakes} }, $front;
$n1->_wait_until('front nginx', $front, "$dir/front-error.log", sub {
    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $front_port,
                          Timeout => 1) ? 1 : 0 });

# one counter of a node's status page (summed over the labels that match)
sub counter {
    my ($node, $name, $labels) = @_;
    my $res = $n1->https->get($node->device_url("/status"));    # n1 made both certificates
    die "status: $res->{status}\n" unless $res->{status} == 200;
    my $sum = 0;
    for (split /\n/, $res->{content}) {
        next unless /^\Q$name\E\{([^}]*)\} (\S+)$/;
        my ($l, $v) = ($1, $2);
        next if $labels && $l !~ $labels;
        $sum += $v;
    }
    return $sum;
}
sub logins { counter($_[0], 'omadm_auth_total', qr/result="accepted"/) }
sub challenges { counter($_[0], 'omadm_auth_total', qr/result="(?:challenged|stale)"/) }

# (i) through the front, every node alive
my $r = $n1->run_sim(url => $front_url, devices => 40, sessions => 2, verify => 1,
                     concurrency => 8, prefix => 'f-');
$n1->check_sim($r, devices => 40, sessions => 2, verify => 1, name => 'two nodes');
is($r->{session_retries} // 0, 0, 'two nodes: no session retried');
my ($l1, $l2) = (logins($n1), logins($n2));
is($l1 + $l2, 80, 'one login per session, over both nodes');
ok($l1 > 0 && $l2 > 0, "both nodes took sessions ($l1 and $l2)");
my ($c1, $c2) = (challenges($n1), challenges($n2));
# a device's first session is challenged; its second logs in with the
# NextNonce of the first; a follow-up on the wrong node would be challenged
is($c1 + $c2, 40, "one challenge per device, none of a follow-up ($c1 + $c2)");

# (ii) node n2 killed while the fleet runs, then started again
my $pid = $n1->start_sim(url => $front_url, devices => 150, sessions => 2, verify => 1,
                         concurrency => 10, prefix => 'k-', retries => 20);
my $deadline = time + 30;
sleep 0.1 until logins($n2) > $l2 + 20 || time > $deadline;
my @n2 = ($n2->nginx_pid, $n2->nginx_workers);
kill 'KILL', @n2;
waitpid($n2->{nginx_pid}, 0);
delete $n2->{nginx_pid};
my ($l1_at_kill, $c1_at_kill) = (logins($n1), challenges($n1));
sleep 1.5;
$n2->start_nginx;
$r = $n1->wait_sim($pid, 120);
$n1->check_sim($r, devices => 150, sessions => 2, verify => 1, name => 'n2 killed');
cmp_ok(logins($n1) - $l1_at_kill, '>', 0, 'n1 went on taking logins after n2 died');
# n2 had sessions in flight: their messages in it got 502 from the front,
# those between two messages a 407 from n1 (session_lost_407); both were
# started again, and the verify above found nothing lost or doubled
cmp_ok($r->{session_retries} // 0, '>', 0, 'the kill hit sessions in flight: retried')
    or diag(explain $r->{errors});
diag(sprintf "after the kill: n1 +%d logins +%d challenges; n2 (restarted) %d logins;"
     . " simulator retries %d, errors %s", logins($n1) - $l1_at_kill,
     challenges($n1) - $c1_at_kill, logins($n2), $r->{session_retries} // 0,
     join ',', map { "$_=$r->{errors}{$_}" } sort keys %{ $r->{errors} || {} });
like($n1->access_log, qr/auth=/, 'n1 logged its messages');

# (iii) n2 back: once the front's fail_timeout (5 s) has passed it takes
# session starts again
sleep 5.5;
$r = $n1->run_sim(url => $front_url, devices => 20, sessions => 1, verify => 1,
                  concurrency => 4, prefix => 'b-');
$n1->check_sim($r, devices => 20, sessions => 1, verify => 1, name => 'n2 back');
cmp_ok(logins($n2), '>', 0, 'the restarted n2 takes sessions again');

$n1->check_error_log;
done_testing;

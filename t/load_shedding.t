#!/usr/bin/perl
# omadm_backend_limit sheds load early and loses nothing: with a slow
# backend and a limit of 2 (one worker), the 3rd and later concurrent
# devices get 503 + Retry-After at once, without a backend call; the
# backend never sees more than 2 requests at a time; the worker's memory
# stays bounded; after the burst every device completes its session and
# every result is recorded once; and client aborts in the middle of a
# backend call give their slot back (no leak, no double release).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::SSL;
use Time::HiRes qw(sleep time);
use OmadmTest;
use OmadmTest::Device;

my $LIMIT = 2;
my $t = OmadmTest->new(
    worker_processes => 1,
    locations => { '/omadm' => { omadm_backend_limit => $LIMIT,
                                 omadm_retry_after => 1 } },
);
my $proxy = $t->fault_proxy;    # slow path to the real backend
$t->set_backend('/omadm-backend/', $proxy);
$t->start;

sub code { my ($res) = @_;
    return "HTTP $res->{status}" unless $res->{syncml};
    return (OmadmTest::Device::hdr_status($res->{syncml}) // {})->{Data} // '?' }

my %dev;
sub dev {
    my ($i) = @_;
    return $dev{$i} //= $t->device(id => "IMEI:shed-$i", user => "u$i", pass => "p$i");
}
dev($_) for 1 .. 40;

# one package 1 without credentials (costs one backend call: the nonce)
sub first_message {
    my ($i) = @_;
    my $d = dev($i);
    $d->new_session($$);    # a new message, not a repeat answered from cache
    my $t0 = time;
    my $res = $d->post($d->package1(cred => undef));
    return sprintf "%s %s %.2f", code($res),
        $res->{headers}{'retry-after'} // '-', time - $t0;
}

# --- a burst of 8 concurrent devices against a 3 s backend ---------------------

$t->proxy_mode($proxy, delay => 3);
my @r = map { [ split ' ' ] } $t->parallel(8, \&first_message);
my @ok = grep { $_->[0] eq '407' } @r;
my @s503 = grep { "@$_" =~ /^HTTP 503 1 / } @r;
is(scalar @ok, $LIMIT, "burst: $LIMIT devices admitted (challenge 407)")
    or diag(explain \@r);
is(scalar @s503, 8 - $LIMIT, 'burst: the others got 503 with Retry-After: 1');
ok(!grep({ $_->[3] > 1.5 } @s503),
   'burst: every 503 came at once (< 1.5 s), not after the 3 s backend')
    or diag(explain \@s503);
my $st = $t->proxy_stats($proxy);
is($st->{requests}, $LIMIT,
   "burst: the backend saw $LIMIT calls, none for a shed message");
ok($st->{max_in_flight} <= $LIMIT, "burst: at most $LIMIT backend calls in flight");
$t->access_log_like(qr/"POST \/omadm" 503 .*auth=undecided/,
                    'a shed message is logged with $omadm_auth undecided');

# --- a burst of 40: backend calls and worker memory stay bounded -------------------

my ($worker) = $t->nginx_workers;
my $rss0 = OmadmTest::vm_rss($worker);
$t->proxy_mode($proxy, delay => 1);
my $before = $t->proxy_stats($proxy)->{requests};
@r = map { [ split ' ' ] } $t->parallel(40, \&first_message);
my $admitted = grep { $_->[0] eq '407' } @r;
my $shed = grep { "@$_" =~ /^HTTP 503 1 / } @r;
is($admitted + $shed, 40, "burst of 40: each admitted ($admitted) or shed ($shed)")
    or diag(explain \@r);
ok($shed >= 40 - 4 * $LIMIT, 'burst of 40: most were shed');
$st = $t->proxy_stats($proxy);
is($st->{requests} - $before, $admitted,
   'burst of 40: one backend call per admitted message, none per shed one');
ok($st->{max_in_flight} <= $LIMIT,
   "burst of 40: still at most $LIMIT backend calls in flight");
my $rss1 = OmadmTest::vm_rss($worker);
ok($rss1 - $rss0 < 16 * 1024, "worker memory bounded: VmRSS $rss0 -> $rss1 kB");

# --- after the burst: every device completes, retrying what was shed -------------

# A device resends a shed message unchanged: nothing in it was acknowledged.
sub post_retrying {
    my ($d, $xml) = @_;
    for (1 .. 60) {
        my $res = $d->post($xml);
        return $res unless $res->{status} == 503;
        sleep($res->{headers}{'retry-after'} // 1);
    }
    die "still 503 after 60 tries\n";
}

sub session {
    my ($i) = @_;
    my $d = dev($i);
    $d->new_session;
    my $res = post_retrying($d, $d->package1(cred => undef));
    return 'no 407: ' . code($res) unless code($res) eq '407';
    $res = post_retrying($d, $d->package1);
    return 'no 212: ' . code($res) unless code($res) eq '212';
    $res = post_retrying($d, $d->answer($res->{syncml},
                         tree => { './DevDetail/SwV' => "sw-$i" }));
    return code($res) eq '200' ? 'ok' : 'no 200: ' . code($res);
}

my $N = 10;
my %cid = map { $_ => $t->queue_command("IMEI:shed-$_",
                    { verb => 'Get', target => './DevDetail/SwV' }) } 1 .. $N;
$t->proxy_mode($proxy, delay => 0.2);
my @done = $t->parallel($N, \&session);
is_deeply(\@done, [ ('ok') x $N ],
          "after the burst all $N devices complete their session");
my @wrong = grep {
    my $c = $t->get_command("IMEI:shed-$_", $cid{$_});
    !($c->{state} eq 'done' && @{ $c->{results} } == 1
      && $c->{results}[0]{data} eq "sw-$_")
} 1 .. $N;
is_deeply(\@wrong, [], 'each result recorded exactly once');
ok($t->proxy_stats($proxy)->{max_in_flight} <= $LIMIT,
   'never more than the limit in flight');

# --- client aborts mid-backend-call give their slot back --------------------------

sub abort_after {
    my ($i, $wait) = @_;
    my $d = dev($i);
    $d->new_session($$);
    my $xml = $d->package1(cred => undef);
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $t->https_port,
                                 SSL_verify_mode => SSL_VERIFY_NONE) or return 'connect';
    print $s "POST /omadm HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: application/vnd.syncml.dm+xml\r\n"
        . "Content-Length: " . length($xml) . "\r\n\r\n$xml";
    sleep $wait;
    close $s;
    return 'aborted';
}

$t->proxy_mode($proxy, delay => 1);
$before = $t->proxy_stats($proxy)->{requests};
for my $round (1 .. 5) {
    $t->parallel(3, sub { abort_after($_[0], 0.3) });
}
my $aborted = $t->proxy_stats($proxy)->{requests} - $before;
ok($aborted >= 5, "aborts: $aborted backend calls were cut off by their clients");
my $deadline = time + 10;    # the proxy finishes the calls nginx gave up on
sleep 0.1 while $t->proxy_stats($proxy)->{in_flight} > 0 && time < $deadline;
sleep 0.5;

$t->proxy_mode($proxy, delay => 2.5);
@r = map { [ split ' ' ] } $t->parallel($LIMIT + 1, \&first_message);
is(scalar(grep { $_->[0] eq '407' } @r), $LIMIT,
   "after aborts a full limit's worth ($LIMIT) of parallel messages is admitted")
    or diag(explain \@r);
is(scalar(grep { "@$_" =~ /^HTTP 503 1 / } @r), 1, 'and one more is still shed');

# --- the directive as nginx -t sees it ---------------------------------------------

for my $case ([ 'off', 0 ], [ '64', 0 ], [ '0', 1 ], [ '-1', 1 ], [ 'many', 1 ],
              [ '2 3', 1 ]) {
    my ($value, $bad) = @$case;
    my $conf = $t->nginx_conf;
    $conf =~ s/omadm_backend_limit \S+;/omadm_backend_limit $value;/ or die;
    my ($rc, $out) = $t->nginx_test($conf);
    if ($bad) {
        ok($rc != 0 && $out =~ /\[emerg\].*omadm_backend_limit/,
           "omadm_backend_limit $value is refused") or diag($out);
    } else {
        is($rc, 0, "omadm_backend_limit $value is accepted") or diag($out);
    }
}
my $conf = $t->nginx_conf;
$conf =~ s/(omadm_backend_limit \S+;)/$1 $1/ or die;
my ($rc, $out) = $t->nginx_test($conf);
like($out, qr/"omadm_backend_limit" directive is duplicate/, 'a duplicate is refused');

$t->check_error_log;
done_testing;

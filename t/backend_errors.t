#!/usr/bin/perl
# A backend that hangs, answers 500, or answers 200 with something that is
# not the contract's JSON: the device gets 503 + Retry-After (quickly, by
# the internal location's proxy_read_timeout) and nothing it sent is
# acknowledged.  Every broken location shares the session zone with a
# healthy one, so the same device message is first retried against each
# broken backend and then delivered to the real one: it must still be
# applied there, exactly once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use IO::Socket::SSL;
use OmadmTest;
use OmadmTest::Device;

sub http_answer {
    my ($status, $type, $body) = @_;
    return "HTTP/1.1 $status\r\nContent-Type: $type\r\nContent-Length: "
        . length($body) . "\r\nConnection: close\r\n\r\n$body";
}

# one failure a location: the backend prefix, the fake's answer
my %broken = (
    '/omadm-hang'  => [ '/hang-backend/', 'hang' ],
    '/omadm-500'   => [ '/err-backend/', http_answer('500 Internal Server Error',
                        'application/json', '{"error":"database is locked"}') ],
    '/omadm-junk'  => [ '/junk-backend/', http_answer('200 OK', 'text/html',
                        '<html><body>maintenance</body></html>') ],
    '/omadm-shape' => [ '/shape-backend/', http_answer('200 OK',
                        'application/json', '{"commands":"none","inner":7}') ],
);
my @broken = sort keys %broken;

# one failed authentication is enough to throttle a device: a backend
# failure must not count as one
my %locs = ('/omadm' => { omadm_auth_failures => '1 60s' });
$locs{$_} = { omadm_backend => $broken{$_}[0], omadm_retry_after => 9,
              omadm_auth_failures => '1 60s' } for @broken;
my $t = OmadmTest->new(locations => \%locs, error_log_level => 'info');
my %fake;    # location -> fake upstream port
for my $loc (@broken) {
    my ($prefix, $answer) = @{ $broken{$loc} };
    $fake{$loc} = $t->fake_upstream(answer => $answer);
    $t->{backends}{$prefix} = { port => $fake{$loc}, proxy_read_timeout => '1s' };
}
$t->start;

sub hdr { OmadmTest::Device::hdr_status($_[0]{syncml}) // {} }
sub code { hdr($_[0])->{Data} // "HTTP $_[0]{status}" }

# the device's URL with another location's path, same ?s= session token
sub at {
    my ($url, $loc) = @_;
    $url =~ s{^(https://[^/]+)/omadm(?=\?|$)}{$1$loc} or die "odd URL $url\n";
    return $url;
}

sub fake_saw {
    my ($loc, $op) = @_;
    return scalar grep { m{^POST /contract/$op HTTP/1\.[01]$} }
                  $t->fake_requests($fake{$loc});
}

# --- an in-session message (the device's Statuses and Results) ----------
my $id = 'IMEI:350000000000901';
my $d = $t->device(id => $id, user => 'ue', pass => 'pe');
my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1);
is(code($res), '212', 'authenticated at the healthy location');
is($t->get_command($id, $cid)->{state}, 'sent', 'command sent');
like($d->url, qr{/omadm\?s=}, 'RespURI with a session token');

my $answer = $d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '7.1' });
my %took;
for my $loc (@broken) {
    my $t0 = time;
    $res = $d->post($answer, url => at($d->url, $loc));
    my $took = $took{$loc} = time - $t0;
    is($res->{status}, 503, "$loc: device results -> 503");
    is($res->{headers}{'retry-after'}, '9', "$loc: Retry-After 9");
    unlike($res->{headers}{'content-type'} // '', qr/syncml/,
           "$loc: no SyncML answer, so no Status acknowledged");
    cmp_ok($took, '<', 5, sprintf('%s: answered in %.1fs', $loc, $took));
    is(fake_saw($loc, 'exchange'), 1, "$loc: the broken backend was asked the exchange");
    my $c = $t->get_command($id, $cid);
    is($c->{state}, 'sent', "$loc: command still sent in the real backend");
    is(scalar @{ $c->{results} || [] }, 0, "$loc: no result recorded");
}
cmp_ok($took{'/omadm-hang'}, '>=', 0.9,
       'the hanging backend was waited for up to proxy_read_timeout 1s');

# the same bytes, now to the healthy location: applied once, session ends
$res = $d->post($answer);
is(code($res), '200', 'same message at the healthy backend -> 200');
ok($res->{syncml} && $res->{syncml}{final}, 'with Final');
is(scalar(OmadmTest::Device::commands($res->{syncml})), 0, 'nothing more to do');
my $c = $t->get_command($id, $cid);
is_deeply([ @$c{qw(state status)} ], [ 'done', 200 ], 'command done, status 200');
is_deeply([ map { $_->{data} } @{ $c->{results} || [] } ], [ '7.1' ],
          'its result recorded exactly once');

# --- the authenticating message (auth call fails) -------------------------
my $bid = 'IMEI:350000000000902';
my $b = $t->device(id => $bid, user => 'ub', pass => 'pb', auth => 'basic');
for my $loc (@broken) {
    $b->new_session;
    my $t0 = time;
    $res = $b->post($b->package1, url => $t->device_url($loc));
    is($res->{status}, 503, "$loc: package 1 with Cred -> 503");
    ok($res->{headers}{'retry-after'}, "$loc: with Retry-After");
    cmp_ok(time - $t0, '<', 5, "$loc: quickly");
    is(fake_saw($loc, 'auth'), 1, "$loc: the broken backend was asked auth");
}
is($t->get_device($bid)->{last_seen}, undef, 'the device never reached an exchange');
$t->access_log_like(qr/dev=\Q$bid\E .*auth=undecided/,
                    'access log: auth=undecided');
$b->new_session;
$res = $b->post($b->package1);
is(code($res), '212', 'healthy location: not throttled by the backend failures');

# --- the device hangs up while the backend is being asked ----------------
# That ends the subrequest too (499); it is not a backend failure and must
# not be logged as one.
{
    my $log_before = length $t->error_log;
    my $msg = $b->package1;
    my $sock = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->https_port, SSL_ca_file => "$t->{dir}/ca.crt",
        SSL_verifycn_name => 'localhost') or die "connect: $!";
    print $sock "POST /omadm-hang HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: application/vnd.syncml.dm+xml\r\n"
        . "Content-Length: " . length($msg) . "\r\n\r\n$msg";
    select(undef, undef, undef, 0.3);    # nginx is waiting for the fake
    close $sock;
    select(undef, undef, undef, 1.5);    # past proxy_read_timeout
    my @lines = split /\n/, substr($t->error_log, $log_before);
    ok((grep { /\[info\].*omadm: backend .* gave no answer \(499\)/ } @lines),
       'hang-up during the subrequest: logged at info as 499');
    is(scalar(grep { /\[error\].*omadm:/ } @lines), 0,
       '... and not as a backend failure');
}

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# omadm_session_zone ttl= is an idle lifetime: a session that keeps
# talking outlives it, one idle past it is forgotten, and the device's next
# message on the old RespURI token (no Cred) is a new session start: it
# is challenged, nothing in it is applied, and the command that was in
# flight is sent again once the device authenticates anew.  Expiry has
# whole-second granularity: a session idle 0.6s across a second boundary
# must still be alive with ttl=1s.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new(
    session_zone => 'zone=omadm:1m ttl=1s',
    http_conf => "    omadm_session_zone zone=keep:1m ttl=2s;\n",
    locations => { '/omadm' => { omadm_max_commands => 1 },
                   '/omadm-keep' => { omadm => 'keep', omadm_max_commands => 1 } },
)->start;

sub hdr { OmadmTest::Device::hdr_status($_[0]{syncml}) // {} }
sub code { hdr($_[0])->{Data} // "HTTP $_[0]{status}" }

# idle device: authenticated, then silent
my $id = 'IMEI:350000000000911';
my $d = $t->device(id => $id, user => 'ux', pass => 'px', session => '70');
my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1);
is(code($res), '212', 'idle device: authenticated');
my $idle_since = time;
my $token_url = $d->url;
like($token_url, qr/\?s=./, 'idle device: RespURI with a token');
my $late_answer = $d->answer($res->{syncml}, tree => { './DevDetail/SwV' => 'late' });

# busy device (ttl=2s zone): one command per message, a message every
# 0.5s for over 2 x ttl
my $bid = 'IMEI:350000000000912';
my $b = $t->device(id => $bid, user => 'uy', pass => 'py', path => '/omadm-keep');
my @bcid = map { $t->queue_command($bid, { verb => 'Get', target => "./Busy/$_" }) }
           1 .. 5;
$b->post($b->package1(cred => undef));
$res = $b->post($b->package1);
is(code($res), '212', 'busy device: authenticated');
my $started = time;
my %tree = map { ("./Busy/$_" => "v$_") } 1 .. 5;
for my $n (1 .. 5) {
    sleep 0.5;
    $res = $b->post($b->answer($res->{syncml}, tree => \%tree));
    is(code($res), '200', "busy device: message $n after 0.5s idle accepted");
}
cmp_ok(time - $started, '>', 2.4, 'busy session lasted beyond 2 x ttl');
is_deeply([ map { $t->get_command($bid, $_)->{state} } @bcid ],
          [ ('done') x 5 ], 'busy device: all five commands done');

# ttl=1s: a message 0.6s after the last one, across a second boundary
my $eid = 'IMEI:350000000000913';
my $e = $t->device(id => $eid, user => 'uz', pass => 'pz');
$t->queue_command($eid, { verb => 'Get', target => "./Early/$_" }) for 1 .. 2;
$e->post($e->package1(cred => undef));
my $frac = time - int(time);
sleep($frac < 0.6 ? 0.6 - $frac : 1.6 - $frac);    # now at x.6
$res = $e->post($e->package1);
is(code($res), '212', 'ttl=1s device: authenticated');
sleep 0.6;                                         # now at (x+1).2
$res = $e->post($e->answer($res->{syncml}));
is(code($res), '200', 'ttl=1s: a session idle 0.6s is still alive');

# the idle device comes back after 2.5s on its old token, without Cred
sleep(2.5 - (time - $idle_since)) if time - $idle_since < 2.5;
$res = $d->post($late_answer, url => $token_url);
is($res->{status}, 200, 'expired session: HTTP 200');
like(code($res), qr/^40[17]$/, 'expired session: challenged (' . code($res) . ')');
ok(hdr($res)->{chal}, 'with a Chal');
is(scalar(OmadmTest::Device::commands($res->{syncml})), 0, 'no commands');
my $c = $t->get_command($id, $cid);
is($c->{state}, 'sent', 'the late Results were not applied: command still sent');
is(scalar @{ $c->{results} || [] }, 0, 'no result recorded');
$t->access_log_like(qr/dev=\Q$id\E sid=70 msg=3 auth=(?:missing|failed)/,
                    'access log: the late message was not authenticated');

# a new session: authenticates and gets the command again
$d->new_session('71');
$res = $d->post($d->package1);
is(code($res), '212', 'new session authenticates');
is_deeply([ map { "$_->{name} $_->{items}[0]{target}" }
            OmadmTest::Device::commands($res->{syncml}) ],
          [ 'Get ./DevDetail/SwV' ], 'the unanswered command is sent again');
$res = $d->post($d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '8.0' }));
is(code($res), '200', 'answered');
$c = $t->get_command($id, $cid);
is_deeply([ $c->{state}, map { $_->{data} } @{ $c->{results} } ], [ 'done', '8.0' ],
          'done, with the result of the new session only');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# Nothing is acknowledged to a device unless the backend accepted it: a
# backend that is down (or a backend location pointing nowhere) gives 503 +
# Retry-After, and the device's resend after recovery is recorded exactly
# once.  Sessions live in shared memory, so they survive nginx -s reload.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

my $dead_port = OmadmTest::free_port();    # nothing listens there
my $t = OmadmTest->new(
    locations => {
        '/omadm'      => { omadm_retry_after => 7 },
        '/omadm-dead' => { omadm_backend => '/dead-backend/' },
    },
    backends => { '/dead-backend/' => $dead_port },
)->start;

sub code { (OmadmTest::Device::hdr_status($_[0]{syncml}) // {})->{Data}
           // "HTTP $_[0]{status}" }

# backend stopped between the 212 and the device's results
my $id = 'dev-fail';
my $d = $t->device(id => $id, user => 'uf', pass => 'pf');
my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1);
is(code($res), '212', 'authenticated, command sent');

$t->stop_backend;
my $answer = $d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '9.9' });
$res = $d->post($answer);
is($res->{status}, 503, 'backend down -> 503');
is($res->{headers}{'retry-after'}, '7', 'Retry-After from omadm_retry_after');

$t->start_backend;
my $c = $t->get_command($id, $cid);
isnt($c->{state}, 'done', "after restart the command is not done ($c->{state})");
is(scalar @{ $c->{results} || [] }, 0, 'no result recorded');

$res = $d->resend;
is(code($res), '200', 'resend of the same message after recovery -> 200');
ok($res->{syncml} && $res->{syncml}{final}, 'session closed with Final');
$c = $t->get_command($id, $cid);
is($c->{state}, 'done', 'command done');
is_deeply([ map { $_->{data} } @{ $c->{results} || [] } ], [ '9.9' ],
          'result recorded exactly once');
$d->resend;
$c = $t->get_command($id, $cid);
is(scalar @{ $c->{results} || [] }, 1, 'a further resend records nothing');

# a backend location pointing at a dead port
my $x = $t->device(id => 'dev-dead', user => 'ud', pass => 'pd',
                   path => '/omadm-dead');
$res = $x->post($x->package1(cred => 'basic'));
is($res->{status}, 503, 'unreachable backend -> 503');
is($res->{headers}{'retry-after'}, '30', 'default Retry-After 30');

# nginx -s reload between two messages of a session
my $rid = 'dev-reload';
my $r = $t->device(id => $rid, user => 'ur', pass => 'pr');
my $rcid = $t->queue_command($rid, { verb => 'Get', target => './DevDetail/SwV' });
$r->post($r->package1(cred => undef));
$res = $r->post($r->package1);
is(code($res), '212', 'reload: authenticated before the reload');
$t->reload_nginx;
$res = $r->post($r->answer($res->{syncml}, tree => { './DevDetail/SwV' => '2.0' }));
is(code($res), '200', 'after reload the session continues without Cred');
is($t->get_command($rid, $rcid)->{state}, 'done', 'and its result is recorded');

$t->check_error_log;
done_testing;

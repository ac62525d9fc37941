#!/usr/bin/perl
# What the operator API refuses because a device could never use it, end
# to end through real nginx and omadm-backend:
#
# * device ids and user names over 256 bytes (the device endpoint's bound
#   on Source/LocURI and LocName): such a device could never log in, and
#   its id would not even fit a DELETE's URL; a 256-byte id works (create,
#   a session, get, delete).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new->start;

sub hdr_code { OmadmTest::Device::hdr_status($_[0]{syncml})->{Data} }
sub esc { OmadmTest::uri_escape($_[0]) }

# --- ids and user names: 256 bytes at most -----------------------------------

my %ok = (device_id => 'IMEI:limits', username => 'u', password => 'p');
for my $case (
    [ 'device_id of 257 bytes', { %ok, device_id => 'I' x 257 }, 'device_id' ],
    [ 'device_id of 129 two-byte characters (258 bytes)',
      { %ok, device_id => "\x{e9}" x 129 }, 'device_id' ],
    [ 'username of 257 bytes', { %ok, username => 'u' x 257 }, 'username' ],
    [ 'server_username of 257 bytes',
      { %ok, server_username => 's' x 257, server_password => 'x' },
      'server_username' ],
) {
    my ($name, $body, $field) = @$case;
    my ($st, $b) = $t->api(POST => '/devices', $body);
    is($st, 400, "$name: 400");
    like(ref $b ? $b->{error} : $b, qr/"\Q$field\E".*256 bytes/,
         "... the error names \"$field\" and the limit");
}
my ($st) = $t->api(GET => '/devices/' . esc('I' x 257));
is($st, 404, 'nothing was created');

# 256 bytes of id and of user name: a device can use them.
my $id = 'IMEI:' . ('7' x 251);
my $user = 'u' x 256;
is(length $id, 256, 'the id is 256 bytes');
my $d = $t->device(id => $id, user => $user, pass => 'secret', auth => 'basic');
my ($gst, $got) = $t->api(GET => '/devices/' . esc($id));
is($gst, 200, '256-byte id: GET finds it');
is($got->{device_id}, $id, '... intact');
is($got->{username}, $user, '... with its 256-byte user name');
my $cid = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
my $res = $d->post($d->package1);
is(hdr_code($res), '212', '256-byte id and user name: the device logs in');
$res = $d->post($d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '1.0' }));
is($res->{status}, 200, '... and answers the Get');
is($t->get_command($id, $cid)->{state}, 'done', '... which is done');
($st) = $t->api(DELETE => '/devices/' . esc($id));
is($st, 204, '256-byte id: DELETE');
($st) = $t->api(GET => '/devices/' . esc($id));
is($st, 404, '... gone');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# What the operator API refuses because a device could never use it, end
# to end through real nginx and omadm-backend:
#
# * device ids and user names over 256 bytes (the device endpoint's bound
#   on Source/LocURI and LocName): such a device could never log in, and
#   its id would not even fit a DELETE's URL; a 256-byte id works (create,
#   a session, get, delete);
# * control characters (other than TAB, LF, CR) in anything a command puts
#   into the SyncML message: XML cannot carry them, so an XML device would
#   get U+FFFD in their place while the command reported `done`.  Binary
#   data goes base64-encoded with "format": "b64".  Nested commands of an
#   Atomic or a Sequence are checked too.

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

# --- control characters in command data ------------------------------------

my $cdev = 'IMEI:ctrl';
$t->register_device($cdev, 'uc', 'pc');
sub queue { $t->api(POST => '/devices/' . esc($cdev) . '/commands', $_[0]) }

my $replace = { verb => 'Replace', target => './Vendor/Acme/X' };
for my $case (
    [ 'data with \x01', { %$replace, data => "a\x01b" }, qr/"data".*b64/ ],
    [ 'data with NUL, format chr', { %$replace, data => "\0", format => 'chr' },
      qr/"data".*b64/ ],
    [ 'data with ESC in an Exec', { verb => 'Exec', target => './X', data => "\e[1m" },
      qr/"data".*b64/ ],
    [ 'b64 data with a control character (not base64)',
      { %$replace, data => "QUJD\x02", format => 'b64' }, qr/"data".*base64/ ],
    [ 'nested in an Atomic',
      { verb => 'Atomic', commands => [ { %$replace, data => "x\x1fy" } ] },
      qr/^commands\[0\]: "data".*b64/ ],
    [ 'nested in a Sequence in an Atomic',
      { verb => 'Atomic', commands => [
          { verb => 'Get', target => './A' },
          { verb => 'Sequence', commands => [ { %$replace, data => "\x7f\x08" } ] } ] },
      qr/^commands\[1\]: commands\[0\]: "data"/ ],
    [ 'an Alert text with BEL',
      { verb => 'Alert', data => 1100, text => "ring\a" }, qr/"text"/ ],
    [ 'an Alert choice with \x0b',
      { verb => 'Alert', data => 1103, text => 'Pick', choices => [ 'a', "b\x0b" ] },
      qr/"choices"/ ],
    [ 'a type with \x0c', { %$replace, data => '1', type => "text/plain\x0c" },
      qr/"type"/ ],
    [ 'a format with \x00', { %$replace, data => '1', format => "int\0" },
      qr/"format"/ ],
    [ 'a correlator with \x1b',
      { verb => 'Exec', target => './X', correlator => "job\e" }, qr/"correlator"/ ],
) {
    my ($name, $cmd, $re) = @$case;
    my ($cst, $b) = queue($cmd);
    is($cst, 400, "$name: 400");
    like(ref $b ? $b->{error} : $b, $re, '... with a clear error') or diag explain $b;
}
my ($lst, $list) = $t->api(GET => '/devices/' . esc($cdev) . '/commands');
is(scalar @$list, 0, 'none of them was queued');

# TAB, LF and CR are XML characters, and base64 is plain text: accepted and
# delivered as they are.
my $text = "line 1\r\n\tline 2\n";
my $c1 = $t->queue_command($cdev, { %$replace, data => $text });
my $c2 = $t->queue_command($cdev, { %$replace, target => './Vendor/Acme/B',
                                    data => "AAEC\r\nAw==", format => 'b64' });
my $c3 = $t->queue_command($cdev, { verb => 'Sequence', commands => [
    { verb => 'Alert', data => 1100, text => "tab\there" } ] });
my $cd = $t->device(id => $cdev, user => 'uc', pass => 'pc', register => 0,
                    auth => 'basic');
$res = $cd->post($cd->package1);
is(hdr_code($res), '212', 'the device logs in');
my @cmds = OmadmTest::Device::commands($res->{syncml});
is($cmds[0]{items}[0]{data}, $text, 'TAB, LF and CR reach the device intact');
is($cmds[1]{items}[0]{data}, "AAEC\r\nAw==", 'base64 data with a line break too');
is(scalar @cmds, 3, 'and the Sequence with its Alert');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# A profile's Add answered 418 (the node already exists) is sent again as
# a Replace: in the same session when the message has room, else at the
# next; the setting ends verified with the Replace's status.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(locations => {
    '/omadm' => {},
    '/omadm-one' => { omadm_max_commands => 1 },    # one command a message
})->start;

my $NODE = './Device/Vendor/MSFT/Policy/Config/Defender/AllowRealtimeMonitoring';
my $NEW = './Device/Vendor/MSFT/Policy/Config/Defender/AllowCloudProtection';
my $add = sub {
    my ($i, $target) = @_;
    return "<Add><CmdID>$i</CmdID><Item><Target><LocURI>$target</LocURI></Target>"
        . "<Meta><Format xmlns=\"syncml:metinf\">int</Format></Meta><Data>1</Data></Item></Add>";
};
my ($st) = $t->api(POST => '/profiles', { name => 'av',
                                          syncml => $add->(1, $NODE) . "\n" . $add->(2, $NEW) });
is($st, 201, 'a profile of two Adds');

my $n = 0;
sub device_at {
    my ($path) = @_;
    my $id = 'IMEI:35200000000' . sprintf('%04d', ++$n);
    my $d = $t->device(id => $id, user => "a$n", pass => "p$n", auth => 'basic',
                       path => $path);
    is(($t->api(PUT => '/profiles/av/assignments/devices/' . OmadmTest::uri_escape($id)))[0],
       204, "device $n assigned");
    return ($d, $id);
}

# Room in the session: the Replace follows in the next message.
my ($d, $id) = device_at('/omadm');
my %tree = ($NODE => '0');    # the node exists, the other does not
my $sent = session($d, tree => \%tree, apply => 1, add_exists => 1);
is_deeply($sent, [ "Add $NODE", "Get $NODE", "Add $NEW", "Get $NEW", "Replace $NODE", "Get $NODE" ],
          'the Add answered 418 goes again as a Replace in the same session');
is($tree{$NODE}, '1', '... the device holds the value');
is(setting_state($t, $id, 'av', $NODE), 'verified:200', '... verified');
is(setting_state($t, $id, 'av', $NEW), 'verified:200', 'the new node: verified by its Add');
is(profile_states($t, $id)->{av}{state}, 'verified', '... the profile verified in one session');
$sent = session($d, tree => \%tree, apply => 1, add_exists => 1);
is_deeply($sent, [], 'the next session sends nothing');

# One command a message, and the session ends after the Add's Status: the
# Replace waits for the next session.
($d, $id) = device_at('/omadm-one');
%tree = ($NODE => '0', $NEW => '5');
$d->new_session;
my $res = $d->post($d->package1);
my @cmds = OmadmTest::Device::commands($res->{syncml});
is(join(' ', map { $_->{name} } @cmds), 'Add', 'one Add in the first message');
$res = $d->post($d->answer($res->{syncml}, tree => \%tree, apply => 1, add_exists => 1));
is(setting_state($t, $id, 'av', $NODE), 'pending:-', 'answered 418: pending, not failed');
# the session breaks off here
$sent = session($d, tree => \%tree, apply => 1, add_exists => 1);
is_deeply([ grep { /\Q$NODE\E/ } @$sent ], [ "Replace $NODE", "Get $NODE" ],
          'the next session sends the Replace and its read-back, not the Add');
is_deeply([ map { setting_state($t, $id, 'av', $_) } $NODE, $NEW ],
          [ 'verified:200', 'verified:200' ], 'both verified');
is_deeply([ @tree{$NODE, $NEW} ], [ 1, 1 ], '... the device holds both values');

# An interior node (Format node) that exists is as wanted: verified, no
# Replace.
my $DIR = './Vendor/MSFT/WiFi/Profile/Corp';
($st) = $t->api(POST => '/profiles', { name => 'dir', syncml =>
    "<Add><CmdID>1</CmdID><Item><Target><LocURI>$DIR</LocURI></Target>"
    . "<Meta><Format xmlns=\"syncml:metinf\">node</Format></Meta></Item></Add>" });
is($st, 201, 'a profile adding an interior node');
($d, $id) = device_at('/omadm');
$t->api(DELETE => '/profiles/av/assignments/devices/' . OmadmTest::uri_escape($id));
$t->api(PUT => '/profiles/dir/assignments/devices/' . OmadmTest::uri_escape($id));
%tree = ($DIR => '');
$sent = session($d, tree => \%tree, apply => 1, add_exists => 1);
is_deeply($sent, [ "Add $DIR" ], 'the Add answered 418 is not sent again');
is(setting_state($t, $id, 'dir', $DIR), 'verified:418', '... the node exists: verified');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# Profiles over several sessions with omadm-backend --profile-recheck 0
# (verified settings read back at every session): a value changed on the
# device behind the server's back is found by the re-check, reported, and
# re-applied at the next session; a session that breaks off leaves its
# profile commands to go out again, not twice.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(backend_args => [ '--profile-recheck', '0' ])->start;

my $TIMEOUT = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MaxInactivityTimeDeviceLock';
my $CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
my $id = 'IMEI:351111111111111';
my $d = $t->device(id => $id, user => 'drift', pass => 'driftpass', auth => 'basic');
my ($st) = $t->api(POST => '/profiles', { name => 'kiosk', settings => [
    { target => $TIMEOUT, format => 'int', data => '5' },
    { target => $CAMERA, format => 'int', data => '0' } ] });
is($st, 201, 'profile uploaded');
is(($t->api(PUT => '/profiles/kiosk/assignments/devices/' . OmadmTest::uri_escape($id)))[0],
   204, '... assigned to the device');

my %tree = ($TIMEOUT => '15', $CAMERA => '1');
session($d, tree => \%tree, apply => 1);
is(profile_states($t, $id)->{kiosk}{state}, 'verified', 'applied and verified');
my $checked = profile_states($t, $id)->{kiosk}{settings}{$TIMEOUT}{checked_at};

# somebody changes the value on the device
$tree{$TIMEOUT} = '30';
my $sent = session($d, tree => \%tree, apply => 1);
is_deeply($sent, [ "Get $TIMEOUT", "Get $CAMERA" ],
          'the next session only reads the verified settings back');
is(setting_state($t, $id, 'kiosk', $TIMEOUT), 'failed:200', 'the drifted value: failed');
is(profile_states($t, $id)->{kiosk}{settings}{$TIMEOUT}{reason},
   'drifted: the device reports "30", not "5"', '... saying what the device reports');
is(setting_state($t, $id, 'kiosk', $CAMERA), 'verified:200', '... the other still verified');
isnt(profile_states($t, $id)->{kiosk}{settings}{$CAMERA}{checked_at}, $checked,
     '... confirmed again just now');
is($tree{$TIMEOUT}, '30', 'nothing was written during the re-check');

$sent = session($d, tree => \%tree, apply => 1);
is_deeply($sent, [ "Replace $TIMEOUT", "Get $TIMEOUT", "Get $CAMERA" ],
          'the session after re-applies the drifted setting');
is($tree{$TIMEOUT}, '5', '... the device holds the profile\'s value again');
is(profile_states($t, $id)->{kiosk}{state}, 'verified', '... and the profile is verified');

# A session that breaks off after the server sent its commands.
$t->api(PUT => '/profiles/kiosk', { settings => [
    { target => $TIMEOUT, format => 'int', data => '7' },
    { target => $CAMERA, format => 'int', data => '0' } ] });
$d->new_session;
my $res = $d->post($d->package1);
my @first = map { $_->{CmdID} } OmadmTest::Device::commands($res->{syncml});
is(scalar @first, 3, 'revision 2: Replace, Get and a re-check go out');
is(setting_state($t, $id, 'kiosk', $TIMEOUT), 'pending:-', '... and the session breaks off');
my (undef, $cmds) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id) . '/commands');
my $count = @$cmds;
$sent = session($d, tree => \%tree, apply => 1);
is_deeply($sent, [ "Replace $TIMEOUT", "Get $TIMEOUT", "Get $CAMERA" ],
          'the next session sends them again');
(undef, $cmds) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id) . '/commands');
is(scalar @$cmds, $count, '... the same commands, none queued twice');
is_deeply([ map { $_->{state} } @$cmds[-3 .. -1] ], [ ('done') x 3 ], '... each done once');
is($tree{$TIMEOUT}, '7', '... the new value on the device');
is_deeply([ map { setting_state($t, $id, 'kiosk', $_) } $TIMEOUT, $CAMERA ],
          [ 'verified:200', 'verified:200' ], '... both verified');

$t->check_error_log;
done_testing;

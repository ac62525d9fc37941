#!/usr/bin/perl
# Profiles in the device's scopes: ./Device/ settings go at once, ./User/
# settings wait (pending, saying why) until the device's LoginStatus
# alert (1224, Meta/Type com.microsoft/MDM/LoginStatus) says "user".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new->start;

my $DEV = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength';
my $USER = './User/Vendor/MSFT/Policy/Config/Start/HideAppList';
my $id = 'IMEI:357777777777777';
my $d = $t->device(id => $id, user => 'us', pass => 'uspass', auth => 'basic');
$t->api(POST => '/profiles', { name => 'scoped', settings => [
    { target => $DEV, format => 'int', data => 8 },
    { target => $USER, format => 'int', data => 1 } ] });
$t->api(PUT => '/profiles/scoped/assignments/devices/' . OmadmTest::uri_escape($id));

sub login { return { alerts => [ { code => 1224, items => [ { type => 'com.microsoft/MDM/LoginStatus',
                                                   format => 'chr', data => $_[0] } ] } ] } }

my %tree = ($DEV => 4, $USER => 0);
is_deeply(session($d, tree => \%tree, apply => 1), [ "Replace $DEV", "Get $DEV" ],
          'no LoginStatus yet: only the ./Device/ setting goes');
my $s = profile_states($t, $id)->{scoped};
is("$s->{settings}{$USER}{state}: $s->{settings}{$USER}{reason}",
   'pending: waiting for a user to log in (no LoginStatus alert yet)', '... the ./User/ one waits, saying why');
is(setting_state($t, $id, 'scoped', $DEV), 'verified:200', '... the ./Device/ one verified');
is($s->{state}, 'pending', '... the profile pending');

is_deeply(session($d, tree => \%tree, apply => 1, package1 => login('none')), [],
          'LoginStatus "none": still nothing for the user');
is(profile_states($t, $id)->{scoped}{settings}{$USER}{reason},
   'waiting for a user to log in (LoginStatus "none")', '... the reason quotes it');
is_deeply(session($d, tree => \%tree, apply => 1, package1 => login('others')), [],
          'LoginStatus "others": nothing either');

is_deeply(session($d, tree => \%tree, apply => 1, package1 => login('user')),
          [ "Replace $USER", "Get $USER" ], 'LoginStatus "user": the ./User/ setting goes in that session');
is(setting_state($t, $id, 'scoped', $USER), 'verified:200', '... verified');
is(profile_states($t, $id)->{scoped}{state}, 'verified', '... the profile verified');
is($tree{$USER}, 1, '... on the device');

is_deeply(session($d, tree => \%tree, apply => 1, package1 => login('none')), [],
          'the user logs off: nothing sent');
is(setting_state($t, $id, 'scoped', $USER), 'verified:200', '... it stays verified');

$t->check_error_log;
done_testing;

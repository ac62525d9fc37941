#!/usr/bin/perl
# A setting with "secret": true: its value is never shown by the operator
# API (the profile, the device's commands and their results, the status
# reasons) nor written to the logs (nginx at debug level, the backend);
# the device gets it all the same.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(error_log_level => 'debug',
                       backend_args => [ '--profile-recheck', '0' ])->start;

my $KEY = './Device/Vendor/MSFT/VPNv2/Corp/NativeProfile/PreSharedKey';
my $SECRET = 'S3cr3t-pre-shared-key-7781';
my $LEN = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength';
my $id = 'IMEI:355555555555555';
my $d = $t->device(id => $id, user => 'sec', pass => 'secpass', auth => 'basic');
my $json = JSON::PP->new->canonical;
my $shows = sub { my ($what) = @_; return index($json->encode($what), $SECRET) >= 0 };

my ($st, $b) = $t->api(POST => '/profiles', { name => 'bad', settings => [
    { target => $KEY, format => 'chr', data => 'x', secret => 1 } ] });
is("$st $b->{error}", '400 settings[0]: "secret" must be true or false', '"secret" not a boolean: 400');

($st, $b) = $t->api(POST => '/profiles', { name => 'vpn', settings => [
    { target => $KEY, format => 'chr', data => $SECRET, secret => JSON::PP::true() },
    { target => $LEN, format => 'int', data => 8 } ] });
is($st, 201, 'uploaded');
ok(!$shows->($b), 'the upload\'s answer does not show the secret');
is_deeply([ map { [ $_->{secret} ? 1 : 0, $_->{data} ] } @{ $b->{settings} } ],
          [ [ 1, undef ], [ 0, 8 ] ], '... the setting marked secret, its data null');
(undef, $b) = $t->api(GET => '/profiles/vpn');
ok(!$shows->($b), 'GET /profiles/vpn does not show it');
$t->api(PUT => '/profiles/vpn/assignments/devices/' . OmadmTest::uri_escape($id));

my %tree = ($KEY => 'old-key-value-0001', $LEN => 4);
session($d, tree => \%tree, apply => 1);
is($tree{$KEY}, $SECRET, 'the device got the value');
is(setting_state($t, $id, 'vpn', $KEY), 'verified:200', '... verified');

# drift: the device reports another value, not shown
$tree{$KEY} = 'changed-on-device-5150';
session($d, tree => \%tree, apply => 1);
my $s = profile_states($t, $id)->{vpn}{settings}{$KEY};
is("$s->{state} $s->{reason}", 'failed drifted: the device reports another value (secret: values not shown)',
   'drift reported without either value');
unlike($json->encode(profile_states($t, $id)), qr/changed-on-device|\Q$SECRET\E/, '... anywhere in the device\'s profiles');
(undef, $b) = $t->api(GET => '/profiles/vpn/status');
unlike($json->encode($b), qr/changed-on-device|\Q$SECRET\E/, '... or the profile\'s status');

(undef, my $cmds) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id) . '/commands');
my @key_cmds = grep { ($_->{target} // '') eq $KEY } @$cmds;
ok(@key_cmds >= 3, 'the device\'s commands list the secret setting\'s commands');
ok(!(grep { !$_->{secret} } @key_cmds), '... each marked secret');
is_deeply([ grep { defined $_->{data} } @key_cmds ], [], '... with data null');
is_deeply([ map { grep { defined $_->{data} } @{ $_->{results} } } @key_cmds ], [],
          '... and the read-back results\' data null');
ok(!(grep { $_->{secret} } grep { ($_->{target} // '') eq $LEN } @$cmds), 'the other setting is not');
unlike($json->encode($cmds), qr/changed-on-device|\Q$SECRET\E|old-key-value/, 'no value shown in the list');
my ($one) = grep { $_->{verb} eq 'Replace' } @key_cmds;
(undef, $b) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id) . '/commands/' . $one->{id});
ok($b->{secret} && !defined $b->{data}, 'GET of one command: redacted too');

for my $log (qw(error.log backend.log access.log)) {
    my $text = do { local (@ARGV, $/) = ($t->dir . "/$log"); <> // '' };
    unlike($text, qr/\Q$SECRET\E|changed-on-device/, "$log does not hold the values");
}
ok(-s $t->dir . '/error.log' > 10000, '... the debug log is full of other things');

$t->check_error_log;
done_testing;

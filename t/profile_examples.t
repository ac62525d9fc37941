#!/usr/bin/perl
# The two worked examples of README.md and docs/backend-api.md
# ("Profiles"), uploaded as written there and applied to a test device: a
# DeviceLock policy in the settings shape, a Defender setting in raw
# SyncML.  The bodies are read from docs/backend-api.md, between the
# "example: devicelock" and "example: defender" markers, so that the
# documentation cannot drift from what the backend accepts.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $doc = do { local (@ARGV, $/) = ("$OmadmTest::ROOT/docs/backend-api.md"); <> };
my %body;
while ($doc =~ /<!-- example: (\w+) -->\s*```json\n(.*?)```/sg) {
    $body{$1} = JSON::PP->new->decode($2);
}
is_deeply([ sort keys %body ], [ 'defender', 'devicelock' ], 'both examples found in the docs');
my $readme = do { local (@ARGV, $/) = ("$OmadmTest::ROOT/README.md"); <> };
for my $name (sort keys %body) {
    ok(index($readme, $body{$name}{name}) >= 0, "README names the $name example");
}
my ($readme_xml) = $readme =~ /```xml\n(<Replace>.*?<\/Replace>)\n```/s;
is($readme_xml, $body{defender}{syncml}, 'README shows the same SyncML');
for my $s (@{ $body{devicelock}{settings} }) {
    ok(index($readme, qq{{"target": "$s->{target}", "format": "int", "data": "$s->{data}"}}) >= 0,
       "README shows $s->{target} = $s->{data}");
}

my $t = OmadmTest->new->start;
my $id = 'IMEI:356666666666666';
my $d = $t->device(id => $id, user => 'ex', pass => 'expass', auth => 'basic');
$t->api(POST => '/groups', { name => 'berlin-office' });
$t->api(PUT => '/groups/berlin-office/devices/' . OmadmTest::uri_escape($id));

my $P = './Device/Vendor/MSFT/Policy/Config';
my %tree = ("$P/DeviceLock/DevicePasswordEnabled" => 1,
            "$P/DeviceLock/MinDevicePasswordLength" => 4,
            "$P/Defender/AllowRealtimeMonitoring" => 0);
for my $name (qw(devicelock defender)) {
    my ($st, $b) = $t->api(POST => '/profiles', $body{$name});
    is($st, 201, "the $name example uploads") or diag(JSON::PP->new->encode($b));
    is(($t->api(PUT => "/profiles/$body{$name}{name}/assignments/groups/berlin-office"))[0], 204,
       '... assigned to the group');
}
session($d, tree => \%tree, apply => 1);
my $states = profile_states($t, $id);
for my $name (qw(devicelock defender)) {
    my $p = $states->{ $body{$name}{name} };
    is($p->{state}, 'verified', "the $name example: verified on the device");
}
is_deeply([ @tree{ map { "$P/$_" } qw(DeviceLock/DevicePasswordEnabled
                                     DeviceLock/MinDevicePasswordLength
                                     Defender/AllowRealtimeMonitoring) } ],
          [ 0, 8, 1 ], '... the device holds the values');

$t->check_error_log;
done_testing;

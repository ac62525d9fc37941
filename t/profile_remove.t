#!/usr/bin/perl
# A setting's "remove" command (a Delete, or a Replace to a default) is
# sent once to each device that had the setting applied when the setting
# stops applying to it: its assignment removed (at the device's next
# session) or its profile deleted (queued at once); not to a device that
# never had it, not while another profile still sets the target.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

binmode(Test::More->builder->$_, ':utf8') for qw(output failure_output todo_output);
my $t = OmadmTest->new->start;
sub esc { OmadmTest::uri_escape($_[0]) }

my $LEN = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength';
my $WIFI = './Device/Vendor/MSFT/WiFi/Profile/Corp/WlanXml';
my $CAM = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';

for my $bad ([ { verb => 'Exec' }, qr/"remove" must be \{"verb": "Delete"\}/ ],
             [ { verb => 'Delete', data => 1 }, qr/a "remove" Delete takes no format, type or data/ ],
             [ { verb => 'Replace' }, qr/"remove": a Replace needs "data"/ ],
             [ { verb => 'Replace', data => 'x' }, qr/"remove": the value is not an integer/ ],
             [ { verb => 'Replace', data => 1, colour => 1 }, qr/unknown field "colour" in "remove"/ ]) {
    my ($st, $b) = $t->api(POST => '/profiles', { name => 'bad', settings => [
        { target => $LEN, format => 'int', data => 8, remove => $bad->[0] } ] });
    like("$st $b->{error}", qr/^400 settings\[0\]: $bad->[1]/, "remove: 400 ($b->{error})");
}

my ($st, $b) = $t->api(POST => '/profiles', { name => 'lock', settings => [
    { target => $LEN, format => 'int', data => 8, remove => { verb => 'Replace', data => 4 } },
    { target => $WIFI, format => 'chr', data => 'corp', remove => { verb => 'Delete' } },
    { target => $CAM, format => 'int', data => 0 } ] });
is($st, 201, 'a profile with two remove commands');
is_deeply([ map { $_->{remove} } @{ $b->{settings} } ],
          [ { verb => 'Replace', format => 'int', type => undef, data => 4 }, { verb => 'Delete' }, undef ],
          '... shown with their settings');
$t->api(POST => '/profiles', { name => 'also', settings => [
    { target => $LEN, format => 'int', data => 8 } ] });

my (@d, @id, @tree);
for my $i (0 .. 3) {
    $id[$i] = "IMEI:35999999999990$i";
    $d[$i] = $t->device(id => $id[$i], user => "r$i", pass => "rpass$i", auth => 'basic');
    $tree[$i] = { $LEN => 6, $CAM => 1 };
}
$t->api(PUT => '/profiles/lock/assignments/devices/' . esc($id[$_])) for 0 .. 3;
session($d[$_], tree => $tree[$_], apply => 1) for 0, 1, 3;    # device 2 never has a session
is_deeply([ map { profile_states($t, $id[$_])->{lock}{state} } 0, 1, 3 ], [ ('verified') x 3 ],
          'devices 0, 1, 3 verified');
$t->api(PUT => '/profiles/also/assignments/devices/' . esc($id[3]));    # 3 keeps $LEN from "also"

# unassigned: the remove commands at the next session, once
$t->api(DELETE => '/profiles/lock/assignments/devices/' . esc($id[$_])) for 0 .. 3;
is_deeply(session($d[0], tree => $tree[0], apply => 1), [ "Replace $LEN", "Delete $WIFI" ],
          'unassigned: the device is sent each setting\'s remove command');
is_deeply([ $tree[0]{$LEN}, exists $tree[0]{$WIFI} ? 1 : 0, $tree[0]{$CAM} ], [ 4, 0, 0 ],
          '... the default back, the node deleted, the other setting left as it is');
is_deeply(session($d[0], tree => $tree[0], apply => 1), [], '... once: nothing the session after');
is_deeply(profile_states($t, $id[0]), {}, '... no profile applies any more');
is_deeply(session($d[2], tree => $tree[2], apply => 1), [], 'a device that never had it: nothing');
is_deeply(session($d[3], tree => $tree[3], apply => 1),
          [ "Delete $WIFI", "Replace $LEN", "Get $LEN" ],
          'a target another profile still sets gets no remove (only that profile\'s own value)');
is($tree[3]{$LEN}, 8, '... its value kept');
(undef, my $cmds) = $t->api(GET => '/devices/' . esc($id[0]) . '/commands');
my @rm = grep { ($_->{profile}{purpose} // '') eq 'remove' } @$cmds;
is_deeply([ map { "$_->{verb} $_->{profile}{name} $_->{state}" } @rm ],
          [ 'Replace lock done', 'Delete lock done' ], 'the commands are marked "remove"');

# deleted: queued at once, go out at the next session
$t->api(PUT => '/profiles/lock/assignments/devices/' . esc($id[1]));
session($d[1], tree => $tree[1], apply => 1);
is(profile_states($t, $id[1])->{lock}{state}, 'verified', 'device 1 assigned again, verified');
is(($t->api(DELETE => '/profiles/lock'))[0], 204, 'the profile deleted');
is_deeply(session($d[1], tree => $tree[1], apply => 1), [ "Replace $LEN", "Delete $WIFI" ],
          '... its remove commands go to the device');
is_deeply(session($d[1], tree => $tree[1], apply => 1), [], '... once');
is($tree[1]{$LEN}, 4, '... the default back');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# Configuration profiles end to end, through real nginx and omadm-backend:
# groups and membership, profile uploads in both shapes with their
# validation errors, assignment to groups and devices, and reconciliation
# in device sessions: settings applied ahead of operator commands and read
# back, per-setting states and reasons, failures, drift, revisions,
# conflicts, Atomic, deletion.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(locations => {
    '/omadm' => {},
    '/omadm-one' => { omadm_max_commands => 1 },    # one command a message
})->start;

sub esc { OmadmTest::uri_escape($_[0]) }
sub error_of { my ($st, $b) = @_; return "$st " . (ref $b ? $b->{error} // '' : $b) }

my $P = './Device/Vendor/MSFT/Policy/Config';
my $MIN_LEN = "$P/DeviceLock/MinDevicePasswordLength";
my $ENABLED = "$P/DeviceLock/DevicePasswordEnabled";
my $HOME = "$P/Browser/HomePages";
my $SWV = './DevDetail/SwV';

my $n = 0;
sub new_device {
    my (%o) = @_;
    my $id = 'IMEI:35000000000' . sprintf('%04d', ++$n);
    return $t->device(id => $id, user => "u$n", pass => "p$n", auth => 'basic', %o);
}

# ---------------------------------------------------------------------------
# Groups and membership.

my $d1 = new_device();
my $id1 = $d1->{id};
my ($st, $b) = $t->api(POST => '/groups', { name => 'fleet' });
is($st, 201, 'group created');
is_deeply([ @$b{qw(name devices profiles)} ], [ 'fleet', [], [] ], '... empty');
is(error_of($t->api(POST => '/groups', { name => 'fleet' })), '409 group already exists',
   'the same name again: 409');
for my $bad ([ {}, qr/"name" must be a string/, 'no name' ],
             [ { name => '' }, qr/1 to 128 characters/, 'empty name' ],
             [ { name => 'x' x 129 }, qr/1 to 128 characters/, '129 characters' ],
             [ { name => "a\tb" }, qr/control characters/, 'a control character' ],
             [ { name => 'g', colour => 'red' }, qr/unknown field "colour"/, 'an unknown field' ]) {
    my ($body, $re, $what) = @$bad;
    ($st, $b) = $t->api(POST => '/groups', $body);
    is($st, 400, "400: $what");
    like($b->{error}, $re, '... says why');
}
($st, $b) = $t->api(POST => '/groups', { name => "\x{e9}" x 128 });
is($st, 201, '128 characters (256 bytes of UTF-8) are a valid name');
is(($t->api(DELETE => '/groups/' . esc(Encode::encode_utf8("\x{e9}" x 128))))[0], 204,
   '... deleted');

is(error_of($t->api(PUT => '/groups/nope/devices/' . esc($id1))), '404 unknown group',
   'membership of an unknown group: 404');
is(error_of($t->api(PUT => '/groups/fleet/devices/IMEI%3A0')), '404 unknown device',
   'membership of an unknown device: 404');
is(($t->api(PUT => '/groups/fleet/devices/' . esc($id1)))[0], 204, 'device added to the group');
is(($t->api(PUT => '/groups/fleet/devices/' . esc($id1)))[0], 204, '... again: still 204');
is_deeply($t->get_device($id1)->{groups}, [ 'fleet' ], 'the device lists its group');
($st, $b) = $t->api(GET => '/groups/fleet');
is_deeply($b->{devices}, [ $id1 ], 'the group lists its device');
($st, $b) = $t->api(GET => '/groups');
is_deeply([ map { $_->{name} } @$b ], [ 'fleet' ], 'GET /groups');
$t->api(POST => '/groups', { name => 'temp' });
$t->api(PUT => '/groups/temp/devices/' . esc($id1));
is(error_of($t->api(DELETE => '/groups/fleet/devices/IMEI%3A0')), '404 unknown device',
   'leaving for an unknown device: 404');
is(($t->api(DELETE => '/groups/temp/devices/' . esc($id1)))[0], 204, 'device leaves a group');
is(error_of($t->api(DELETE => '/groups/temp/devices/' . esc($id1))),
   '404 the device is not in the group', '... not a member any more: 404');
is(($t->api(DELETE => '/groups/temp'))[0], 204, 'group deleted');
is(error_of($t->api(DELETE => '/groups/temp')), '404 unknown group', '... twice: 404');
is(error_of($t->api(GET => '/groups/temp')), '404 unknown group', '... gone');
is_deeply($t->get_device($id1)->{groups}, [ 'fleet' ], 'the device is in fleet only');

# ---------------------------------------------------------------------------
# Profile uploads and their validation.

my %lock = (name => 'lock', settings => [
    { target => $MIN_LEN, format => 'int', data => '8' },
    { target => $ENABLED, format => 'int', data => 0 },    # a JSON number
    { target => $HOME, format => 'chr', type => 'text/plain',
      data => '<https://intra.example.com>' },
]);
($st, $b) = $t->api(POST => '/profiles', \%lock);
is($st, 201, 'profile uploaded as settings');
is($b->{revision}, 1, '... revision 1');
is_deeply([ map { "$_->{verb} $_->{target} $_->{format} $_->{data} $_->{revision}" } @{ $b->{settings} } ],
          [ "Replace $MIN_LEN int 8 1", "Replace $ENABLED int 0 1",
            "Replace $HOME chr <https://intra.example.com> 1" ],
          '... each setting a Replace of its target, in order');
is(error_of($t->api(POST => '/profiles', \%lock)), '409 profile already exists',
   'the same name again: 409');

my @too_many = map { { target => "./Vendor/Acme/N$_", format => 'int', data => $_ } } 1 .. 1001;
for my $bad (
    [ { name => 'p', settings => [ { target => $MIN_LEN, format => 'integer', data => '8' } ] },
      qr/^settings\[0\]: "format" must be one of int, chr, bool, b64, xml/, 'a bad format' ],
    [ { name => 'p', settings => [ { target => $MIN_LEN, format => 'int', data => 'eight' } ] },
      qr/^settings\[0\]: the value of .* is not an integer/, 'an int that is not one' ],
    [ { name => 'p', settings => [ { target => $MIN_LEN, format => 'int' } ] },
      qr/^settings\[0\]: "data" must be a string/, 'no data' ],
    [ { name => 'p', settings => [ { target => '/abs', format => 'int', data => '1' } ] },
      qr/^settings\[0\]: "target" must be a node URI/, 'an absolute target' ],
    [ { name => 'p', settings => [ { target => $MIN_LEN, format => 'int', data => '1', value => 2 } ] },
      qr/unknown field "value"/, 'an unknown setting field' ],
    [ { name => 'p', settings => [ { target => './A', format => 'int', data => '1' },
                                   { target => './A', format => 'int', data => '2' } ] },
      qr/\.\/A is set twice \(settings\[0\] and settings\[1\]\)/, 'a target twice' ],
    [ { name => 'p', settings => [] }, qr/at least one setting/, 'no setting' ],
    [ { name => 'p', settings => \@too_many }, qr/at most 1000 settings per profile/,
      '1001 settings' ],
    [ { name => 'p', settings => [ { target => './A', format => 'chr', data => 'x' x 262145 } ],
        syncml => '<Replace/>' }, qr/either "settings".*or "syncml"/, 'both shapes' ],
    [ { name => 'x' x 129, settings => [ { target => './A', format => 'chr', data => 'x' } ] },
      qr/1 to 128 characters/, 'a long name' ],
) {
    my ($body, $re, $what) = @$bad;
    ($st, $b) = $t->api(POST => '/profiles', $body);
    is($st, 400, "400: $what");
    like($b->{error}, $re, '... says why') or diag explain $b;
}
($st, $b) = $t->api(POST => '/profiles', { name => 'thousand', settings => [ @too_many[0 .. 999] ] });
is($st, 201, '1000 settings are accepted');
is(($t->api(DELETE => '/profiles/thousand'))[0], 204, '... and deleted');

# Raw SyncML, as Fleet users write it; errors name the line.
sub syncml_error {
    my ($text) = @_;
    my ($st, $b) = $t->api(POST => '/profiles', { name => 'raw', syncml => $text });
    return "$st line " . ($b->{line} // '-') . ": " . ($b->{error} // '');
}
my $item = sub {
    my ($target, $data, $format) = @_;
    return "<Item><Target><LocURI>$target</LocURI></Target>"
        . ($format ? "<Meta><Format xmlns=\"syncml:metinf\">$format</Format></Meta>" : '')
        . "<Data>$data</Data></Item>";
};
like(syncml_error("<Replace>\n  <CmdID>1</CmdID>\n  <Item>\n    <Target><LocURI>./Vendor/MSFT/WiFi/Profile/Corp/WlanXml</LocURI></Target>\n"
                  . "    <Data><WLANProfile><name>Corp</name></WLANProfile></Data>\n  </Item>\n</Replace>"),
     qr/^400 line 5: <Data> holds XML \(<WLANProfile>\): escape it .* or wrap it in <!\[CDATA/,
     'unescaped XML in Data: 400 with its line');
like(syncml_error("<Replace><CmdID>1</CmdID>" . $item->('./A', 1) . "</Replace>\n"
                  . "<Get><CmdID>2</CmdID><Item><Target><LocURI>./B</LocURI></Target></Item></Get>"),
     qr/^400 line 2: only Add, Replace, Exec, Delete and Atomic may be at the top level of a profile, not <Get>/,
     'a Get at the top level: 400');
like(syncml_error("<Replace><CmdID>1</CmdID>" . $item->('./A', 1) . "</Replace>\n\n"
                  . "<Add><CmdID>2</CmdID>\n<Item><Data>1</Data></Item></Add>"),
     qr/^400 line 4: <Add> has no Target/, 'a command without Target: 400');
like(syncml_error("<Exec><CmdID>2</CmdID></Exec>"), qr/^400 line 1: <Exec> has no Target/,
     'a command without Item: 400');
like(syncml_error("<Replace><CmdID>1</CmdID>\n" . $item->('', 1) . "</Replace>"),
     qr/^400 line 2: <Replace> has an empty Target: <LocURI> must name a node/,
     'an empty Target: 400 naming it');
like(syncml_error("<Delete><CmdID>1</CmdID><Item><Target><LocURI>  </LocURI></Target></Item></Delete>"),
     qr/^400 line 1: <Delete> has an empty Target/, 'a Target of blanks: 400');
($st, $b) = $t->api(POST => '/profiles', { name => 'e', settings => [
    { target => '', format => 'int', data => 1 } ] });
like(error_of($st, $b), qr/^400 settings\[0\]: "target"/, 'an empty target in the settings shape: 400');

like(syncml_error("<Replace>" . $item->('./A', 'a & b') . "</Replace>"),
     qr/^400 line 1: not well-formed XML/, 'a bare & : not well-formed, 400');
like(syncml_error(qq{<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<Replace>} . $item->('./A', '&a;') . "</Replace>"),
     qr/^400 line 1: a DOCTYPE is not allowed/, 'a DOCTYPE: 400');
like(syncml_error("<Atomic>\n<Sequence>" . "</Sequence></Atomic>"),
     qr/^400 line 2: an <Atomic> in a profile holds only Add, Replace, Exec and Delete, not <Sequence>/,
     'a Sequence in an Atomic: 400');
like(syncml_error("<Replace>\n" . $item->('./A', 1, 'integer') . "</Replace>"),
     qr/^400 line 2: Format "integer" is not one of/, 'a bad Format: 400 with its line');
like(syncml_error("<Replace>" . $item->('./A', 1) . "</Replace>\n<Replace>"
                  . $item->('./A', 2) . "</Replace>"),
     qr/^400 line 2: \.\/A is set twice \(lines 1 and 2\)/, 'a target twice: both lines');
like(syncml_error("<Replace><NoResp/>" . $item->('./A', 1) . "</Replace>"),
     qr/^400 line 1: <NoResp> is not expected in <Replace>/, 'NoResp: 400');
like(syncml_error(join "\n", map { "<Replace>" . $item->("./N$_", 1) . "</Replace>" } 1 .. 1001),
     qr/^400 line 1001: at most 1000 settings per profile/, '1001 commands: 400 at the 1001st');

my $wifi = '<WLANProfile xmlns="http://www.microsoft.com/networking/WLAN/profile/v1">'
    . '<name>Corp</name></WLANProfile>';
my $raw = <<"EOF";
<?xml version="1.0" encoding="UTF-8"?>
<Atomic>
  <CmdID>1</CmdID>
  <Replace><CmdID>2</CmdID>
    ${\ $item->('./Vendor/Acme/A', 1, 'int') }
  </Replace>
  <Replace><CmdID>3</CmdID>
    <Meta><Format xmlns="syncml:metinf">chr</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta>
    ${\ $item->('./Vendor/Acme/B', 'b') }
  </Replace>
</Atomic>
<Add><CmdID>4</CmdID>${\ $item->('./Vendor/MSFT/WiFi/Profile/Corp/WlanXml', "<![CDATA[$wifi]]>", 'chr') }</Add>
<Exec><CmdID>5</CmdID><Item><Target><LocURI>./Vendor/Acme/Sync</LocURI></Target></Item></Exec>
<Delete><CmdID>6</CmdID><Item><Target><LocURI>./Vendor/Acme/Old</LocURI></Target></Item></Delete>
EOF
($st, $b) = $t->api(POST => '/profiles', { name => 'acme', syncml => $raw });
is($st, 201, 'raw SyncML with an XML declaration, an Atomic, CDATA, an Exec, a Delete: 201')
    or diag explain $b;
is_deeply([ map { join ' ', $_->{verb}, $_->{target}, $_->{format} // '-', $_->{type} // '-',
                  $_->{atomic} // 0, $_->{line} } @{ $b->{settings} || [] } ],
          [ 'Replace ./Vendor/Acme/A int - 1 5', 'Replace ./Vendor/Acme/B chr text/plain 1 9',
            'Add ./Vendor/MSFT/WiFi/Profile/Corp/WlanXml chr - 0 12',
            'Exec ./Vendor/Acme/Sync - - 0 13', 'Delete ./Vendor/Acme/Old - - 0 14' ],
          '... one setting per command, with its Meta, Atomic and line');
is($b->{settings}[2]{data}, $wifi, '... the CDATA kept as the value');
is($b->{syncml}, $raw, '... the upload kept as sent');

is(error_of($t->api(GET => '/profiles/nope')), '404 unknown profile', 'unknown profile: 404');
is(error_of($t->api(PUT => '/profiles/nope', { settings => $lock{settings} })),
   '404 unknown profile', 'PUT of an unknown profile: 404');
is(error_of($t->api(PUT => '/profiles/lock', { name => 'other', settings => $lock{settings} })),
   '400 "name" differs from the profile\'s name in the path', 'PUT with another name: 400');
is(error_of($t->api(PUT => '/profiles/lock/assignments/groups/nope')), '404 unknown group',
   'assignment to an unknown group: 404');
is(error_of($t->api(PUT => '/profiles/nope/assignments/groups/fleet')), '404 unknown profile',
   'assignment of an unknown profile: 404');
is(error_of($t->api(PUT => '/profiles/lock/assignments/devices/IMEI%3A0')), '404 unknown device',
   'assignment to an unknown device: 404');
is(error_of($t->api(DELETE => '/profiles/lock/assignments/groups/fleet')),
   '404 the profile is not assigned to the group', 'removing an assignment that is not there: 404');
($st, $b) = $t->api(GET => '/profiles');
is_deeply([ map { "$_->{name} $_->{revision} $_->{setting_count}" } @$b ],
          [ 'acme 1 5', 'lock 1 3' ], 'GET /profiles: name, revision, number of settings');

# ---------------------------------------------------------------------------
# A session applies the settings ahead of an operator command queued
# earlier, reads each back, and the states follow.

my $op = $t->queue_command($id1, { verb => 'Get', target => $SWV });
is(($t->api(PUT => '/profiles/lock/assignments/groups/fleet'))[0], 204, 'lock assigned to fleet');
my $s = profile_states($t, $id1);
is($s->{lock}{state}, 'pending', 'before any session the profile is pending');
is_deeply($s->{lock}{assigned}, { device => JSON::PP::false, groups => [ 'fleet' ] },
          '... assigned through fleet');
is(setting_state($t, $id1, 'lock', $MIN_LEN), 'pending:-', '... and so is each setting');

my %tree1 = ($MIN_LEN => '4', $ENABLED => '1', $HOME => '', $SWV => '10.0');
my $sent = session($d1, tree => \%tree1, apply => 1);
is_deeply($sent, [ "Replace $MIN_LEN", "Get $MIN_LEN", "Replace $ENABLED", "Get $ENABLED",
                   "Replace $HOME", "Get $HOME", "Get $SWV" ],
          'each setting goes out with its read-back, all ahead of the operator Get')
    or diag explain $sent;
$s = profile_states($t, $id1)->{lock};
is($s->{state}, 'verified', 'read back equal: the profile is verified');
is_deeply([ map { setting_state($t, $id1, 'lock', $_) } $MIN_LEN, $ENABLED, $HOME ],
          [ ('verified:200') x 3 ], '... every setting verified with status 200');
ok($s->{settings}{$MIN_LEN}{checked_at}, '... with the time it was confirmed');
is($t->get_command($id1, $op)->{state}, 'done', 'the operator command was answered too');
($st, $b) = $t->api(GET => '/devices/' . esc($id1) . '/commands');
my @marked = grep { $_->{profile} } @$b;
is_deeply([ map { "$_->{verb} $_->{profile}{name} $_->{profile}{revision} $_->{profile}{purpose}" } @marked ],
          [ map { ("Replace lock 1 apply", "Get lock 1 verify") } 1 .. 3 ],
          'profile commands are in the command list, marked with profile, revision and purpose');
is($marked[0]{profile}{setting}, $MIN_LEN, '... and the setting they carry out');
ok(!exists((grep { $_->{id} eq $op } @$b)[0]{profile}), 'the operator command has no mark');
is($s->{settings}{$MIN_LEN}{apply_command}, $marked[0]{id}, 'the setting names its Replace');
is($s->{settings}{$MIN_LEN}{verify_command}, $marked[1]{id}, '... and its Get');
is_deeply(session($d1, tree => \%tree1, apply => 1), [],
          'the next session: nothing to do for verified settings');

# pending -> verifying -> verified within one session, one command a message
my $d2 = new_device(path => '/omadm-one');
$t->api(POST => '/profiles', { name => 'one', settings => [
    { target => $MIN_LEN, format => 'int', data => '8' } ] });
$t->api(PUT => '/profiles/one/assignments/devices/' . esc($d2->{id}));
my %tree2 = ($MIN_LEN => '6');
my $res = $d2->post($d2->package1);
is_deeply([ map { $_->{name} } OmadmTest::Device::commands($res->{syncml}) ], [ 'Replace' ],
          'one command a message: the Replace first');
is(setting_state($t, $d2->{id}, 'one', $MIN_LEN), 'pending:-', '... pending while it is out');
$res = $d2->post($d2->answer($res->{syncml}, tree => \%tree2, apply => 1));
is_deeply([ map { $_->{name} } OmadmTest::Device::commands($res->{syncml}) ], [ 'Get' ],
          '... then its read-back, in the same session');
is(setting_state($t, $d2->{id}, 'one', $MIN_LEN), 'verifying:200', '... verifying after the 200');
is(profile_states($t, $d2->{id})->{one}{state}, 'verifying', '... and so is the profile');
$res = $d2->post($d2->answer($res->{syncml}, tree => \%tree2, apply => 1));
ok(!OmadmTest::Device::commands($res->{syncml}), '... nothing more to send');
is(setting_state($t, $d2->{id}, 'one', $MIN_LEN), 'verified:200', '... verified by the read-back');

# ---------------------------------------------------------------------------
# A setting the device answers 404: failed with the reason, the others
# verified, the profile failed.

my $d3 = new_device();
$t->api(PUT => '/profiles/lock/assignments/devices/' . esc($d3->{id}));
session($d3, tree => { $MIN_LEN => '4', $ENABLED => '1' }, apply => 1, codes => { $HOME => 404 });
$s = profile_states($t, $d3->{id})->{lock};
is($s->{state}, 'failed', 'one setting answered 404: the profile failed');
is(setting_state($t, $d3->{id}, 'lock', $HOME), 'failed:404', '... that setting failed with 404');
is($s->{settings}{$HOME}{reason}, 'the node does not exist on the device', '... and says why');
is_deeply([ map { setting_state($t, $d3->{id}, 'lock', $_) } $MIN_LEN, $ENABLED ],
          [ 'verified:200', 'verified:200' ], '... the others verified');
is_deeply($s->{assigned}, { device => JSON::PP::true, groups => [] }, '... assigned directly');

($st, $b) = $t->api(GET => '/profiles/lock/status');
is($st, 200, 'profile status');
is_deeply([ @$b{qw(revision devices)}, $b->{counts} ],
          [ 1, 2, { pending => 0, verifying => 0, verified => 1, failed => 1 } ],
          '... counts per state over its two devices');
is_deeply($b->{failing}, [ { device_id => $d3->{id}, settings => [
              { target => $HOME, status => 404, reason => 'the node does not exist on the device' } ] } ],
          '... and the failing device with its failed setting');

# ---------------------------------------------------------------------------
# Drift: the device accepts the Replace but reads back another value.

my $d4 = new_device();
$t->api(PUT => '/profiles/lock/assignments/devices/' . esc($d4->{id}));
my %tree4 = ($MIN_LEN => '4', $ENABLED => '0', $HOME => '<https://intra.example.com>');
session($d4, tree => \%tree4);    # no apply: the values stay as they were
is(setting_state($t, $d4->{id}, 'lock', $MIN_LEN), 'failed:200', 'read-back differs: failed');
is(profile_states($t, $d4->{id})->{lock}{settings}{$MIN_LEN}{reason},
   'the device reports "4", not "8"', '... saying what the device reports');
is_deeply([ map { setting_state($t, $d4->{id}, 'lock', $_) } $ENABLED, $HOME ],
          [ 'verified:200', 'verified:200' ], '... the values that were already right are verified');
$sent = session($d4, tree => \%tree4, apply => 1);
is_deeply($sent, [ "Replace $MIN_LEN", "Get $MIN_LEN" ],
          'the next session re-applies the failed setting only');
is(setting_state($t, $d4->{id}, 'lock', $MIN_LEN), 'verified:200', '... now verified');

# Per format: int numerically, bool case-insensitively, xml whitespace
# normalised, b64 decoded, chr exactly.
my $d5 = new_device();
my @fmt = ([ './F/int', 'int', '8', '008' ], [ './F/bool', 'bool', 'true', 'True' ],
           [ './F/xml', 'xml', '<a><b>1</b></a>', "<a>\n  <b>1</b>\n</a>" ],
           [ './F/b64', 'b64', 'aGVsbG8gd29ybGQ=', "aGVsbG8g\nd29ybGQ=" ],
           [ './F/chr', 'chr', 'a', 'a ' ]);
$t->api(POST => '/profiles', { name => 'formats', settings => [
    map { { target => $_->[0], format => $_->[1], data => $_->[2] } } @fmt ] });
$t->api(PUT => '/profiles/formats/assignments/devices/' . esc($d5->{id}));
session($d5, tree => { map { ($_->[0] => $_->[3]) } @fmt });
is_deeply([ map { setting_state($t, $d5->{id}, 'formats', $_->[0]) } @fmt ],
          [ ('verified:200') x 4, 'failed:200' ],
          'read-back compared per format: int, bool, xml, b64 equal; chr "a " is not "a"');

# ---------------------------------------------------------------------------
# A new revision re-applies only what changed (the rest is read back).

my @lock2 = map { { %$_ } } @{ $lock{settings} };
$lock2[0]{data} = '10';
($st, $b) = $t->api(PUT => '/profiles/lock', { settings => \@lock2 });
is($st, 200, 'PUT: a new revision');
is_deeply([ $b->{revision}, map { $_->{revision} } @{ $b->{settings} } ], [ 2, 2, 1, 1 ],
          '... revision 2; the changed setting has it, the others keep 1');
is(setting_state($t, $id1, 'lock', $MIN_LEN), 'pending:-', 'the changed setting is pending');
is(setting_state($t, $id1, 'lock', $ENABLED), 'verified:200', '... the unchanged still verified');
$sent = session($d1, tree => \%tree1, apply => 1);
is_deeply($sent, [ "Replace $MIN_LEN", "Get $MIN_LEN", "Get $ENABLED", "Get $HOME" ],
          'the next session replaces the changed setting, only reads back the others');
is($tree1{$MIN_LEN}, '10', '... the device holds the new value');
$s = profile_states($t, $id1)->{lock};
is_deeply([ $s->{state}, $s->{revision} ], [ 'verified', 2 ], '... verified at revision 2');

# ---------------------------------------------------------------------------
# Two profiles setting the same target differently: a conflict, reported,
# and neither value sent.

$t->api(POST => '/profiles', { name => 'lock-strict', settings => [
    { target => $MIN_LEN, format => 'int', data => '14' },
    { target => "$P/DeviceLock/MaxInactivityTimeDeviceLock", format => 'int', data => '5' } ] });
$t->api(PUT => '/profiles/lock-strict/assignments/devices/' . esc($id1));
$s = profile_states($t, $id1);
is(setting_state($t, $id1, 'lock', $MIN_LEN), 'failed:-', 'a conflict: failed in one profile');
is(setting_state($t, $id1, 'lock-strict', $MIN_LEN), 'failed:-', '... and in the other');
is($s->{'lock-strict'}{settings}{$MIN_LEN}{reason},
   qq{conflict: profiles "lock" and "lock-strict" both set $MIN_LEN, to different values},
   '... the reason names both profiles');
$sent = session($d1, tree => \%tree1, apply => 1);
is_deeply($sent, [ "Replace $P/DeviceLock/MaxInactivityTimeDeviceLock",
                   "Get $P/DeviceLock/MaxInactivityTimeDeviceLock" ],
          'the session sends the other setting, not the conflicting one');
is($tree1{$MIN_LEN}, '10', '... the device keeps its value: no flapping');
is(setting_state($t, $id1, 'lock', $MIN_LEN), 'failed:-', '... still a conflict');
($st, $b) = $t->api(GET => '/profiles/lock/status');
is_deeply([ $b->{devices}, $b->{counts} ],
          [ 3, { pending => 1, verifying => 0, verified => 0, failed => 2 } ],
          'profile status: the conflict and the 404 failed, the device without a session'
          . ' since revision 2 pending');
is(($t->api(DELETE => '/profiles/lock-strict/assignments/devices/' . esc($id1)))[0], 204,
   'the second profile unassigned');
is(setting_state($t, $id1, 'lock', $MIN_LEN), 'verified:200', '... the setting is verified again');
ok(!profile_states($t, $id1)->{'lock-strict'}, '... and that profile no longer applies');

# Two profiles asking the same value of a node: no conflict, applied once.
$t->api(POST => '/profiles', { name => 'lock-copy', settings => [
    { target => $ENABLED, format => 'int', data => '0' } ] });
$t->api(PUT => '/profiles/lock-copy/assignments/devices/' . esc($id1));
is(setting_state($t, $id1, 'lock-copy', $ENABLED), 'pending:-', 'the same value in another profile: pending');
is_deeply(session($d1, tree => \%tree1, apply => 1), [ "Replace $ENABLED", "Get $ENABLED" ],
          '... applied once for both');
is_deeply([ map { setting_state($t, $id1, $_, $ENABLED) } 'lock', 'lock-copy' ],
          [ 'verified:200', 'verified:200' ], '... verified in both');
$t->api(DELETE => '/profiles/lock-copy');

# ---------------------------------------------------------------------------
# Raw SyncML: an Atomic goes whole and rolls back whole; an Exec is
# verified by its Status alone.

my $d6 = new_device();
$t->api(PUT => '/profiles/acme/assignments/devices/' . esc($d6->{id}));
my %tree6;
$sent = session($d6, tree => \%tree6, apply => 1,
                codes => { './Vendor/Acme/B' => 500, './Vendor/Acme/Old' => 404 });
is_deeply($sent, [ 'Atomic', 'Replace ./Vendor/Acme/A', 'Replace ./Vendor/Acme/B',
                   'Get ./Vendor/Acme/A', 'Get ./Vendor/Acme/B',
                   'Add ./Vendor/MSFT/WiFi/Profile/Corp/WlanXml',
                   'Get ./Vendor/MSFT/WiFi/Profile/Corp/WlanXml', 'Exec ./Vendor/Acme/Sync',
                   'Delete ./Vendor/Acme/Old' ],
          'the Atomic goes whole, then the read-backs; the Exec and Delete have none')
    or diag explain $sent;
$s = profile_states($t, $d6->{id})->{acme}{settings};
is(setting_state($t, $d6->{id}, 'acme', './Vendor/Acme/B'), 'failed:500', 'the failing child: 500');
is($s->{'./Vendor/Acme/B'}{reason}, 'the device failed to apply it', '... in words');
is(setting_state($t, $d6->{id}, 'acme', './Vendor/Acme/A'), 'failed:216', 'its sibling rolled back: 216');
is($s->{'./Vendor/Acme/A'}{reason}, 'rolled back: another command of its Atomic failed', '... in words');
is(setting_state($t, $d6->{id}, 'acme', './Vendor/Acme/Sync'), 'verified:200',
   'the Exec verified by its Status');
is(setting_state($t, $d6->{id}, 'acme', './Vendor/Acme/Old'), 'verified:404',
   'the Delete of a node that is not there: verified');
is(setting_state($t, $d6->{id}, 'acme', './Vendor/MSFT/WiFi/Profile/Corp/WlanXml'), 'verified:200',
   'the Wi-Fi profile verified: its XML value read back equal');
$sent = session($d6, tree => \%tree6, apply => 1);
is_deeply($sent, [ 'Atomic', 'Replace ./Vendor/Acme/A', 'Replace ./Vendor/Acme/B',
                   'Get ./Vendor/Acme/A', 'Get ./Vendor/Acme/B' ],
          'the next session sends the Atomic again, whole; not the Exec or the Delete');
is(profile_states($t, $d6->{id})->{acme}{state}, 'verified', '... now all verified');

# ---------------------------------------------------------------------------
# Deleting a profile stops reconciling and leaves the history as it was.

my (undef, $before) = $t->api(GET => '/devices/' . esc($id1) . '/commands');
is(($t->api(DELETE => '/profiles/lock'))[0], 204, 'profile deleted');
is(error_of($t->api(GET => '/profiles/lock')), '404 unknown profile', '... gone');
ok(!profile_states($t, $id1)->{lock}, '... no longer in the device\'s profiles');
my (undef, $after) = $t->api(GET => '/devices/' . esc($id1) . '/commands');
is_deeply($after, $before, 'the device\'s command history is intact, marks included');
is_deeply(session($d1, tree => \%tree1, apply => 1), [], 'the next session sends nothing');
is_deeply($t->get_device($id1)->{groups}, [ 'fleet' ], 'group membership is untouched');
($st, $b) = $t->api(GET => '/groups/fleet');
is_deeply($b->{profiles}, [], '... and the group has no profile left');

$t->check_error_log;
done_testing;

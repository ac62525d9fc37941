#!/usr/bin/perl
# What the console needs from omadm-backend, without a browser: viewer
# tokens (GET only, 403 for every other method, before the path is looked
# at), GET /whoami, GET /stats (counts, check-ins per hour recorded at each
# session start), and the console's static files (types, CSP, nothing
# outside console/, 404 without --console-dir).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use OmadmTest;
use OmadmTest::Profiles ();

my $t = OmadmTest->new;
my $dir = $t->dir;
my $viewer = OmadmTest::_random_hex();
OmadmTest::_write("$dir/viewer.token", $viewer, 0600);
$t->{backend_args} = ['--viewer-token-file', "$dir/viewer.token",
                      '--console-dir', "$OmadmTest::ROOT/console"];
$t->start;

my $http = HTTP::Tiny->new(timeout => 10);
sub as {
    my ($tok, $method, $path, $body) = @_;
    my $r = $http->request($method, $t->api_url($path), {
        headers => { Authorization => "Bearer $tok" },
        (defined $body ? (content => $body) : ()) });
    return ($r->{status}, eval { decode_json($r->{content}) } // $r->{content});
}

# ---- roles ---------------------------------------------------------------------
is_deeply [as($t->{token}, GET => '/whoami')], [200, { role => 'operator' }], 'whoami: operator';
is_deeply [as($viewer, GET => '/whoami')], [200, { role => 'viewer' }], 'whoami: viewer';
is((as('wrong', GET => '/whoami'))[0], 401, 'whoami: a wrong token is 401');

$t->register_device('dev:1', 'u1', 'p1');
is((as($viewer, GET => '/devices'))[0], 200, 'a viewer lists devices');
is((as($viewer, GET => '/devices/dev%3A1/commands'))[0], 200, 'and reads commands');
is((as($viewer, GET => '/stats'))[0], 200, 'and stats');
for my $w (['POST', '/devices', '{"device_id":"x","username":"u","password":"p"}'],
           ['POST', '/devices/dev%3A1/commands', '{"verb":"Get","target":"./X"}'],
           ['DELETE', '/devices/dev%3A1', undef], ['PUT', '/devices/dev%3A1', '{}'],
           ['PATCH', '/devices/dev%3A1', '{}'], ['POST', '/no/such/path', '{}']) {
    my ($st, $e) = as($viewer, @$w);
    is $st, 403, "viewer: $w->[0] $w->[1] is 403";
    like $e->{error}, qr/read-only/, '... saying why';
}
is scalar @{ $t->get_device('dev:1') ? [1] : [] }, 1, 'the device is still there';
is((as($t->{token}, POST => '/devices/dev%3A1/commands', '{"verb":"Get","target":"./X"}'))[0], 201,
   'the operator still writes');

# the same token for both is refused at start
{
    my $out = qx{$OmadmTest::BACKEND --listen 127.0.0.1:0 --db $dir/other.db --token-file $dir/admin.token --key-file $dir/contract.key --viewer-token-file $dir/admin.token 2>&1};
    is $? >> 8, 2, 'a viewer token equal to the operator token: exit 2';
    like $out, qr/must differ/, '... with a message';
}

# ---- stats -----------------------------------------------------------------------
my (undef, $s0) = as($t->{token}, GET => '/stats');
is $s0->{devices}, 1, 'stats: 1 device';
is $s0->{never_seen}, 1, 'never seen';
is_deeply $s0->{seen}, { hour => 0, day => 0, week => 0 }, 'seen by nobody yet';
is_deeply $s0->{commands}, { queued => 1, sent => 0, done => 0, failed => 0 }, 'commands by state';
is scalar @{ $s0->{checkins_per_hour} }, 24, '24 hourly buckets';
my $sum = sub { my $n = 0; $n += $_->{checkins} for @{ $_[0]{checkins_per_hour} }; $n };
is $sum->($s0), 0, 'no check-in yet';

my $d = $t->device(id => 'dev:2', user => 'u2', pass => 'p2');
for (1 .. 3) {
    $d->new_session;
    $d->post($d->package1(cred => undef)) if $_ == 1;
    my $r = $d->post($d->package1);
    is $r->{status}, 200, "session $_";
}
my (undef, $s1) = as($t->{token}, GET => '/stats');
is $s1->{devices}, 2, 'stats: 2 devices';
is $s1->{never_seen}, 1, 'one never seen';
is_deeply $s1->{seen}, { hour => 1, day => 1, week => 1 }, 'one seen in the last hour';
is $sum->($s1), 3, 'three sessions: three check-ins';
is $s1->{checkins_per_hour}[-1]{checkins}, 3, 'all in the current hour';
like $s1->{checkins_per_hour}[-1]{hour}, qr/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/, 'buckets are whole UTC hours';

# ---- enrollment state and profile summary: the paged listing, /stats ------------------
is_deeply $s1->{enrollment}, { enrolled => 0, unenrolled => 0, none => 2 },
    'stats: no device enrolled (t/enrollment.t enrolls one)';
is_deeply $s1->{profiles}, { pending => 0, verifying => 0, verified => 0, failed => 0 },
    'stats: no profile yet';
my $P = './Device/Vendor/MSFT/Policy/Config/DeviceLock';
my $p3 = $t->device(id => 'dev:3', user => 'u3', pass => 'p3', auth => 'basic');
is((as($t->{token}, POST => '/profiles', encode_json({ name => 'good', settings => [
    { target => "$P/MinDevicePasswordLength", format => 'int', data => '4' } ] })))[0], 201, 'profile good');
is((as($t->{token}, POST => '/profiles', encode_json({ name => 'bad', settings => [
    { target => "$P/DevicePasswordEnabled", format => 'int', data => '1' } ] })))[0], 201, 'profile bad');
is((as($t->{token}, POST => '/profiles', encode_json({ name => 'later', settings => [
    { target => "$P/MaxInactivityTimeDeviceLock", format => 'int', data => '5' } ] })))[0], 201, 'profile later');
is((as($t->{token}, PUT => "/profiles/$_/assignments/devices/dev%3A3"))[0], 204, "$_ assigned to dev:3")
    for qw(good bad);
OmadmTest::Profiles::session($p3, tree => { "$P/MinDevicePasswordLength" => '4' }, apply => 1,
                             codes => { "$P/DevicePasswordEnabled" => 404 });
my $states = OmadmTest::Profiles::profile_states($t, 'dev:3');
is_deeply [ map { $states->{$_}{state} } qw(good bad) ], [ 'verified', 'failed' ],
    'dev:3: good verified, bad failed (GET /devices/{id}/profiles)';
# a profile assigned after the session: pending on dev:2
is((as($t->{token}, PUT => '/profiles/later/assignments/devices/dev%3A2'))[0], 204, 'later assigned to dev:2');

my (undef, $page) = as($viewer, GET => '/devices?limit=10');
my %row = map { ($_->{device_id} => $_) } @{ $page->{devices} };
is_deeply [ sort keys %row ], [ 'dev:1', 'dev:2', 'dev:3' ], 'the paged listing has the three devices';
is_deeply $row{'dev:3'}{profiles}, { verified => 1, failed => 1 }, 'dev:3: one verified, one failed';
is_deeply $row{'dev:2'}{profiles}, { pending => 1 }, 'dev:2: one pending';
is_deeply $row{'dev:1'}{profiles}, {}, 'dev:1: no profile';
ok exists $row{$_}{enrollment} && !defined $row{$_}{enrollment}, "$_: enrollment null" for sort keys %row;
my (undef, $s2) = as($viewer, GET => '/stats');
is_deeply $s2->{profiles}, { pending => 1, verifying => 0, verified => 1, failed => 1 },
    'stats: (device, profile) pairs by state';
is_deeply $s2->{enrollment}, { enrolled => 0, unenrolled => 0, none => 3 }, 'stats: three devices not enrolled';

# ---- static files -------------------------------------------------------------------
my $base = 'http://127.0.0.1:' . $t->api_port;
my $r = $http->get("$base/console/");
is $r->{status}, 200, '/console/ without a token (the page signs in itself)';
like $r->{headers}{'content-type'}, qr{^text/html; charset=utf-8}, 'html';
like $r->{headers}{'content-security-policy'}, qr/^default-src 'none'; script-src 'self'; style-src 'self';/, 'CSP';
is $r->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff';
is $r->{headers}{'x-frame-options'}, 'DENY', 'no framing';
$r = HTTP::Tiny->new(max_redirect => 0)->get("$base/console");
is $r->{status}, 301, '/console redirects';
is $r->{headers}{location}, '/console/', '... to /console/';
is $http->get("$base/console/views/devices.js")->{headers}{'content-type'}, 'text/javascript; charset=utf-8', 'a module in a subdirectory';
is $http->get("$base/console/favicon.svg")->{headers}{'content-type'}, 'image/svg+xml', 'svg';
for my $bad ('../Makefile', '..%2fMakefile', '%2e%2e/Makefile', 'views/../../Makefile', '.hidden.js', 'app.js~', 'x.txt', 'README.md') {
    is $http->get("$base/console/$bad")->{status}, 404, "console/$bad: 404";
}
my $all = join '', map { OmadmTest::_slurp($_) } glob("$OmadmTest::ROOT/console/*.js $OmadmTest::ROOT/console/views/*.js");
unlike $all, qr/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, 'no script builds markup from strings';
unlike $all . OmadmTest::_slurp("$OmadmTest::ROOT/console/index.html"), qr{https?://(?!www\.w3\.org/2000/svg)}, 'no other origin';

$t->stop_backend;
$t->{backend_args} = [];
$t->start_backend;
is $http->get("$base/console/")->{status}, 404, 'without --console-dir: 404';
is((as($viewer, GET => '/whoami'))[0], 401, 'without --viewer-token-file the viewer token is nothing');
done_testing;

#!/usr/bin/perl
# Profiles on a fleet of 50 omadm-sim devices, each with its own DM tree
# (--tree: Add on an existing node 418, read-only nodes 405, --drift),
# checked through the operator API: one session each reaches verified; a
# failing setting reports its code; an Add on an existing node ends as a
# Replace; a ./User/ setting waits for LoginStatus "user"; a new revision
# re-applies only what changed; drift is found and repaired; a backend
# killed mid-run leaves every device converging.  Each sim run starts its
# devices' trees from --node, as the devices hold them after the runs
# before.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use POSIX ();
use JSON::PP qw(decode_json);
use OmadmTest;

my $SIM = "$OmadmTest::ROOT/build/omadm-sim";
plan skip_all => "$SIM not built (run make)" unless -x $SIM;

my $N = 50;
my $t = OmadmTest->new(locations => { '/omadm' => { omadm_retry_after => 1 } })->start;
my $dir = $t->dir;
sub esc { OmadmTest::uri_escape($_[0]) }

my $P = './Device/Vendor/MSFT/Policy/Config';
my $LEN = "$P/DeviceLock/MinDevicePasswordLength";
my $ENABLED = "$P/DeviceLock/DevicePasswordEnabled";
my $RT = "$P/Defender/AllowRealtimeMonitoring";
my $RO = './Device/Vendor/MSFT/DeviceStatus/Compliance';
my $USER = './User/Vendor/MSFT/Policy/Config/Start/HideAppList';

# the fleet, registered and in a group before its first session
$t->api(POST => '/groups', { name => 'fleet' });
open my $fh, '>', "$dir/devices.txt" or die;
my @ids = map { "IMEI:36" . sprintf('%013d', $_) } 1 .. $N;
for my $i (0 .. $#ids) {
    my $id = $ids[$i];
    $t->register_device($id, "fleet$i", "pw-fleet$i");
    $t->api(PUT => '/groups/fleet/devices/' . esc($id));
    print $fh "$id fleet$i pw-fleet$i\n";
}
close $fh;

my $add = sub {
    my ($target, $data) = @_;
    return "<Add><CmdID>1</CmdID><Item><Target><LocURI>$target</LocURI></Target>"
        . "<Meta><Format xmlns=\"syncml:metinf\">int</Format></Meta><Data>$data</Data></Item></Add>";
};
for my $p ([ { name => 'lock', settings => [
                 { target => $ENABLED, format => 'int', data => 0 },
                 { target => $LEN, format => 'int', data => 8 } ] } ],
           [ { name => 'defender', syncml => $add->($RT, 1) } ],
           [ { name => 'compliance', settings => [ { target => $RO, format => 'chr', data => 'ok' } ] } ],
           [ { name => 'start', settings => [ { target => $USER, format => 'int', data => 1 } ] } ]) {
    my ($st) = $t->api(POST => '/profiles', $p->[0]);
    is($st, 201, "profile $p->[0]{name} uploaded");
    $t->api(PUT => "/profiles/$p->[0]{name}/assignments/groups/fleet");
}

sub sim_cmd {
    my (%tree) = @_;
    return ($SIM, '--url', $t->device_url, '--ca', $t->ca_file, '--api', $t->api_url,
            '--token-file', "$dir/admin.token", '--devices-file', "$dir/devices.txt",
            '--auth', 'basic', '--quiet', '--json', '--tree', '--read-only', $RO,
            map { ('--node', "$_=$tree{$_}") } sort keys %tree);
}
sub sim {
    my ($args, %tree) = @_;
    my $t0 = time;
    my $pid = open(my $out, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>', "$dir/sim-stderr.txt" or POSIX::_exit(127);
        exec(sim_cmd(%tree), @$args) or POSIX::_exit(127);
    }
    local $/;
    my $text = <$out> // '';
    close $out;
    my $r = eval { decode_json($text) };
    return ($? >> 8, $r, time - $t0);
}
sub counts {
    my (undef, $s) = $t->api(GET => "/profiles/$_[0]/status");
    return join ' ', map { "$_=$s->{counts}{$_}" } grep { $s->{counts}{$_} } qw(pending verifying verified failed);
}
sub commands_of {
    my (undef, $c) = $t->api(GET => '/devices/' . esc($_[0]) . '/commands');
    return $c;
}
sub sent {    # "Verb target" of the device's commands of profile $p, in order
    my ($id, $p) = @_;
    return [ map { "$_->{verb} $_->{target}" } grep { ($_->{profile}{name} // '') eq $p } @{ commands_of($id) } ];
}

# ---- one session each
my ($rc, $r, $secs) = sim([ '--sessions', 1 ], $LEN => 4, $ENABLED => 1, $RT => 0);
is($rc, 0, "run 1: $N devices, one session each (${\ sprintf '%.1f', $secs } s)");
is($r && $r->{sessions_completed}, $N, '... every session completed');
is(counts('lock'), "verified=$N", 'settings shape: verified on every device in one session');
is(counts('defender'), "verified=$N", 'the Add on an existing node: verified as a Replace');
is_deeply(sent($ids[0], 'defender'), [ "Add $RT", "Get $RT", "Replace $RT", "Get $RT" ],
          '... answered 418, sent again as Replace in the same session');
is(counts('compliance'), "failed=$N", 'the read-only node: failed on every device');
my (undef, $cs) = $t->api(GET => '/profiles/compliance/status');
is_deeply([ map { "$_->{settings}[0]{status} $_->{settings}[0]{reason}" } $cs->{failing}[0] ],
          [ '405 not allowed' ], '... with the device\'s code and its meaning');
is(counts('start'), "pending=$N", 'the ./User/ setting: pending, no user logged in');
is_deeply(sent($ids[0], 'start'), [], '... nothing sent for it');

# ---- LoginStatus user
($rc) = sim([ '--sessions', 1, '--login-status', 'user' ],
            $LEN => 8, $ENABLED => 0, $RT => 1);
is($rc, 0, 'run 2: the devices report LoginStatus "user"');
is(counts('start'), "verified=$N", 'the ./User/ setting: verified');
is(counts('lock'), "verified=$N", '... the others still verified');

# ---- a new revision: only what changed goes
$t->api(PUT => '/profiles/lock', { settings => [
    { target => $ENABLED, format => 'int', data => 0 },
    { target => $LEN, format => 'int', data => 10 } ] });
($rc) = sim([ '--sessions', 1, '--login-status', 'user' ],
            $LEN => 8, $ENABLED => 0, $RT => 1, $USER => 1);
is($rc, 0, 'run 3: revision 2 of "lock"');
is(counts('lock'), "verified=$N", '... verified');
is_deeply(sent($ids[7], 'lock'), [ "Replace $ENABLED", "Get $ENABLED", "Replace $LEN", "Get $LEN",
                                   "Get $ENABLED", "Replace $LEN", "Get $LEN" ],
          '... only the changed setting re-applied (the other read back)');

# ---- drift, found at every session (--profile-recheck 0)
$t->{backend_args} = [ '--profile-recheck', '0' ];
$t->stop_backend->start_backend;
($rc) = sim([ '--sessions', 3, '--login-status', 'user', '--drift', "$LEN=3" ],
            $LEN => 10, $ENABLED => 0, $RT => 1, $USER => 1);
is($rc, 0, 'run 4: 3 sessions, the length changed on every device before sessions 2 and 3');
is(counts('start'), "verified=$N", '... the other profiles re-checked and verified');
is(counts('lock'), "verified=$N", 'drift repaired: verified');
my @len = grep { /\Q$LEN\E/ } @{ sent($ids[3], 'lock') };
is_deeply([ @len[4 .. $#len] ], [ "Get $LEN", "Get $LEN", "Replace $LEN", "Get $LEN" ],
          '... read back (same), read back (changed: failed), re-applied and verified');

# ---- the backend killed mid-run
my $before = () = $t->backend_log =~ m{POST /contract/}g;
my $pid = fork // die;
if ($pid == 0) {
    open STDOUT, '>', "$dir/sim-kill.json" or POSIX::_exit(127);
    open STDERR, '>', "$dir/sim-kill-stderr.txt" or POSIX::_exit(127);
    exec(sim_cmd($LEN => 4, $ENABLED => 1, $RT => 0, $USER => 0),
         '--sessions', 2, '--login-status', 'user') or POSIX::_exit(127);
}
my $deadline = time + 30;
sleep 0.02 while time < $deadline && (() = $t->backend_log =~ m{POST /contract/}g) - $before < 60;
$t->kill_backend;
sleep 0.3;
$t->start_backend;
waitpid($pid, 0);
is($? >> 8, 0, 'run 5: the backend killed mid-run and restarted, the run completes');
my $rk = eval { decode_json(OmadmTest::_slurp("$dir/sim-kill.json")) } || {};
ok(grep({ $_ ne '200' } keys %{ $rk->{http_status} || {} }),
   '... the devices saw the outage (HTTP ' . join(',', sort keys %{ $rk->{http_status} || {} }) . ')');
for my $p (qw(lock defender start)) {
    is(counts($p), "verified=$N", "... \"$p\" verified on every device");
}
is(counts('compliance'), "failed=$N", '... "compliance" still failed');
my @open = grep { $_->{state} =~ /^(queued|sent)$/ } map { @{ commands_of($_) } } @ids;
is(scalar @open, 0, '... no profile command left open');

$t->check_error_log(qr/upstream|connect\(\) failed|backend/);
done_testing;

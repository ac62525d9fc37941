#!/usr/bin/perl
# Profiles are durable and idempotent like the command queue: the backend
# killed (SIGKILL, by PID) in the middle of sessions and restarted loses
# nothing and verifies nothing twice.  Three devices, caught at three
# points: commands handed out but not answered; the Replace answered, its
# read-back not yet; already verified.  After the restart each converges,
# every command of the profile done exactly once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(locations => {
    '/omadm' => { omadm_retry_after => 1 },
    '/omadm-one' => { omadm_max_commands => 1, omadm_retry_after => 1 },
})->start;

my $LEN = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength';
my $RT = './Device/Vendor/MSFT/Policy/Config/Defender/AllowRealtimeMonitoring';
$t->api(POST => '/groups', { name => 'all' });
$t->api(POST => '/profiles', { name => 'p', settings => [
    { target => $LEN, format => 'int', data => 8 },
    { target => $RT, format => 'int', data => 1 } ] });
$t->api(PUT => '/profiles/p/assignments/groups/all');

my (@d, @id, @tree);
for my $i (0 .. 2) {
    $id[$i] = "IMEI:35888888888880$i";
    $d[$i] = $t->device(id => $id[$i], user => "k$i", pass => "kpass$i", auth => 'basic',
                        path => $i == 1 ? '/omadm-one' : '/omadm');
    $t->api(PUT => '/groups/all/devices/' . OmadmTest::uri_escape($id[$i]));
    $tree[$i] = { $LEN => 4, $RT => 0 };
}
sub commands_of {
    my (undef, $c) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($_[0]) . '/commands');
    return $c;
}

# device 2: verified before the kill
session($d[2], tree => $tree[2], apply => 1);
is(profile_states($t, $id[2])->{p}{state}, 'verified', 'device 2 verified before the kill');

# device 0: its commands handed out, not answered
$d[0]->new_session;
my $res0 = $d[0]->post($d[0]->package1);
is(scalar(OmadmTest::Device::commands($res0->{syncml})), 4, 'device 0: four commands handed out');

# device 1 (one command a message): the Replace answered, its Get handed out
$d[1]->new_session;
my $res1 = $d[1]->post($d[1]->package1);
$res1 = $d[1]->post($d[1]->answer($res1->{syncml}, tree => $tree[1], apply => 1));
my ($get) = OmadmTest::Device::commands($res1->{syncml});
is("$get->{name} " . OmadmTest::Device::_target($get), "Get $LEN", 'device 1: its Get handed out');
is(setting_state($t, $id[1], 'p', $LEN), 'verifying:200', '... the setting verifying');

my %before = map { ($id[$_] => scalar @{ commands_of($id[$_]) }) } 0 .. 2;
my $old_pid = $t->{backend_pid};
$t->kill_backend;
ok(!kill(0, $old_pid), 'backend killed');
my $r = $d[0]->post($d[0]->answer($res0->{syncml}, tree => $tree[0], apply => 1));
isnt($r->{status}, 200, "device 0's answer while the backend is down: $r->{status}");
$t->start_backend;

my @sent = map { session($d[$_], tree => $tree[$_], apply => 1) } 0 .. 2;
# device 0 carried out its commands before the answer was lost: they go
# again (at-least-once), the same commands
is_deeply([ sort @{ $sent[0] } ], [ sort "Replace $LEN", "Get $LEN", "Replace $RT", "Get $RT" ],
          'device 0: its four commands go again after the restart');
is_deeply($sent[1], [ "Get $LEN", "Replace $RT", "Get $RT" ],
          'device 1: the Get again, then the rest; the answered Replace not again');
is_deeply($sent[2], [], 'device 2: nothing (verified, not verified again)');
for my $i (0 .. 2) {
    is(profile_states($t, $id[$i])->{p}{state}, 'verified', "device $i verified");
    my $cmds = commands_of($id[$i]);
    is(scalar @$cmds, $before{ $id[$i] }, '... no command queued twice');
    is_deeply([ grep { $_ ne 'done' } map { $_->{state} } @$cmds ], [], '... every one done');
    is_deeply([ @{ $tree[$i] }{ $LEN, $RT } ], [ 8, 1 ], '... the device holds the values');
}
(undef, my $st) = $t->api(GET => '/profiles/p/status');
is_deeply($st->{counts}, { pending => 0, verifying => 0, verified => 3, failed => 0 },
          'the profile: verified on all three');
is_deeply([ map { scalar @{ session($d[$_], tree => $tree[$_], apply => 1) } } 0 .. 2 ],
          [ 0, 0, 0 ], 'the sessions after send nothing');

$t->check_error_log(qr/upstream|connect\(\) failed|backend/);
done_testing;

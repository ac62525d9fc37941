#!/usr/bin/perl
# A setting with "verify": false (a write-only node: the device answers
# its Get 405) is verified by its Status alone: no read-back Get, no
# re-check; a setting without it on such a node fails "could not read it
# back".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(backend_args => [ '--profile-recheck', '0' ])->start;

my $PIN = './Device/Vendor/MSFT/BitLocker/RecoveryPassword';    # written, never read
my $LEN = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength';
my $id = 'IMEI:353333333333333';
my $d = $t->device(id => $id, user => 'wo', pass => 'wopass', auth => 'basic');

my ($st, $b) = $t->api(POST => '/profiles', { name => 'bad', settings => [
    { target => $PIN, format => 'chr', data => 'x', verify => 'no' } ] });
is("$st $b->{error}", '400 settings[0]: "verify" must be true or false', '"verify" not a boolean: 400');

($st, $b) = $t->api(POST => '/profiles', { name => 'wo', settings => [
    { target => $PIN, format => 'chr', data => '1234', verify => JSON::PP::false() },
    { target => $LEN, format => 'int', data => 8 } ] });
is($st, 201, 'uploaded');
is_deeply([ map { exists $_->{verify} ? ($_->{verify} ? 'true' : 'false') : '-' } @{ $b->{settings} } ],
          [ 'false', '-' ], '"verify": false shown with its setting');
$t->api(PUT => '/profiles/wo/assignments/devices/' . OmadmTest::uri_escape($id));

my %tree = ($LEN => 4);
my $sent = session($d, tree => \%tree, apply => 1);
is_deeply($sent, [ "Replace $PIN", "Replace $LEN", "Get $LEN" ],
          'no Get for the write-only node');
is(setting_state($t, $id, 'wo', $PIN), 'verified:200', '... verified by its Status');
is(profile_states($t, $id)->{wo}{state}, 'verified', '... the profile verified');
$sent = session($d, tree => \%tree, apply => 1);
is_deeply($sent, [ "Get $LEN" ], 'a re-check does not read the write-only node');
is(setting_state($t, $id, 'wo', $PIN), 'verified:200', '... still verified');

# The same node without "verify": false, answering its Get 405.
($st) = $t->api(PUT => '/profiles/wo', { settings => [
    { target => $PIN, format => 'chr', data => '1234' },
    { target => $LEN, format => 'int', data => 8 } ] });
is($st, 200, 'a new revision reads it back');
$d->new_session;
my $res = $d->post($d->package1);
my @cmds = OmadmTest::Device::commands($res->{syncml});
my $body = $d->answer($res->{syncml}, tree => \%tree, apply => 1,
                      codes => { $PIN => 200 });
# the device holds the node but will not return it: its Get answered 405
$body =~ s{(<Cmd>Get</Cmd><TargetRef>\Q$PIN\E</TargetRef><Data>)200}{${1}405};
$body =~ s{<Results>(?:(?!</Results>).)*\Q$PIN\E(?:(?!</Results>).)*</Results>}{}s;
$d->post($body);
is(setting_state($t, $id, 'wo', $PIN), 'failed:405', 'read back: 405, failed');
like(profile_states($t, $id)->{wo}{settings}{$PIN}{reason}, qr/^could not read it back: not allowed/,
     '... could not read it back');

$t->check_error_log;
done_testing;

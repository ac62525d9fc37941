#!/usr/bin/perl
# omadm-backend --profile-recheck-sessions 3 (and --profile-recheck 8760,
# so hours never make it due): a verified setting is read back at every
# third session after it was last read, drift found then is re-applied.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Profiles qw(session profile_states setting_state);

my $t = OmadmTest->new(backend_args => [ '--profile-recheck', '8760',
                                         '--profile-recheck-sessions', '3' ])->start;

my $LEN = './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength';
my $id = 'IMEI:354444444444444';
my $d = $t->device(id => $id, user => 'rs', pass => 'rspass', auth => 'basic');
$t->api(POST => '/profiles', { name => 'lock', settings => [
    { target => $LEN, format => 'int', data => 8 } ] });
$t->api(PUT => '/profiles/lock/assignments/devices/' . OmadmTest::uri_escape($id));

my %tree = ($LEN => 4);
is_deeply(session($d, tree => \%tree, apply => 1), [ "Replace $LEN", "Get $LEN" ], 'applied');
is(setting_state($t, $id, 'lock', $LEN), 'verified:200', '... verified');
$tree{$LEN} = 6;    # drift, unseen for two sessions
is_deeply(session($d, tree => \%tree, apply => 1), [], 'session 2: nothing');
is_deeply(session($d, tree => \%tree, apply => 1), [], 'session 3: nothing');
is(setting_state($t, $id, 'lock', $LEN), 'verified:200', '... still verified');
is_deeply(session($d, tree => \%tree, apply => 1), [ "Get $LEN" ], 'session 4: read back');
is(setting_state($t, $id, 'lock', $LEN), 'failed:200', '... drift found');
is_deeply(session($d, tree => \%tree, apply => 1), [ "Replace $LEN", "Get $LEN" ],
          'session 5: re-applied');
is(setting_state($t, $id, 'lock', $LEN), 'verified:200', '... verified');
is($tree{$LEN}, 8, '... on the device');
is_deeply([ map { scalar @{ session($d, tree => \%tree, apply => 1) } } 1 .. 6 ],
          [ 0, 0, 1, 0, 0, 1 ], 'then a Get every third session');

my $out = `$OmadmTest::ROOT/build/omadm-backend --listen 127.0.0.1:1 --db /dev/null --profile-recheck-sessions -1 2>&1`;
like($out, qr/--profile-recheck-sessions wants a number from 0 to 100000/, 'a bad count: usage error');

$t->check_error_log;
done_testing;

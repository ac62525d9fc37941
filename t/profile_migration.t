#!/usr/bin/perl
# Schema version 4 (groups and profiles) over a version-3 database: the
# backend opens a database without the profile tables and columns, adds
# them, keeps the devices and commands it holds, and reconciles profiles
# on it.  The version-3 file is made from a fresh one with the sqlite3
# shell, by dropping what version 4 added (and the version table, which
# came after version 5).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;

OmadmTest::Postgres::sqlite_only("makes an old SQLite file");
use OmadmTest::Profiles qw(session setting_state);

plan skip_all => 'the sqlite3 shell is not installed' unless OmadmTest::sqlite3_shell();

my $t = OmadmTest->new;
my $db = $t->dir . '/omadm.db';
sub sql { OmadmTest::sqlite3($db, $_[0]) }

my $id = 'IMEI:352222222222222';
$t->start_backend;
$t->register_device($id, 'old', 'oldpass');
my $old = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
$t->stop_backend;

sql(join ';', (map { "DROP TABLE $_" } qw(device_setting_states profile_device_assignments
        profile_group_assignments profile_settings profiles group_members device_groups)),
    (map { "ALTER TABLE commands DROP COLUMN $_" }
         qw(profile_name profile_revision profile_target profile_purpose profile_secret)),
    'DROP TABLE schema_migrations', 'PRAGMA user_version=3');
is(sql('PRAGMA user_version'), '3', 'a version-3 database');
unlike(sql("SELECT group_concat(name) FROM pragma_table_info('commands')"), qr/profile/,
       '... whose commands have no profile columns');

$t->start;
cmp_ok(sql('PRAGMA user_version'), '>=', 4, 'opened: upgraded to version 4 (or later)');
is(sql('SELECT group_concat(version) FROM schema_migrations'), '5',
   '... recorded in the version table');
is(sql("SELECT count(*) FROM sqlite_master WHERE name IN ('device_groups', 'profiles',"
       . " 'profile_settings', 'device_setting_states')"), '4', '... with the profile tables');
is($t->get_command($id, $old)->{state}, 'queued', 'the queued command is still there');
is_deeply($t->get_device($id)->{groups}, [], '... and the device, in no group');

my $d = $t->device(id => $id, user => 'old', pass => 'oldpass', auth => 'basic', register => 0);
$t->api(POST => '/groups', { name => 'legacy' });
$t->api(PUT => '/groups/legacy/devices/' . OmadmTest::uri_escape($id));
$t->api(POST => '/profiles', { name => 'p', settings => [
    { target => './Vendor/Acme/Level', format => 'int', data => '3' } ] });
$t->api(PUT => '/profiles/p/assignments/groups/legacy');
my $sent = session($d, tree => { './DevDetail/SwV' => '1.0' }, apply => 1);
is_deeply($sent, [ 'Replace ./Vendor/Acme/Level', 'Get ./Vendor/Acme/Level', 'Get ./DevDetail/SwV' ],
          'a session on the upgraded database: the profile first, then the old command');
is(setting_state($t, $id, 'p', './Vendor/Acme/Level'), 'verified:200', '... verified');

$t->check_error_log;
done_testing;

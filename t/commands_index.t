#!/usr/bin/perl
# GET /api/v1/devices/{id}/commands reads one device's top-level commands
# through the index commands_top_level_by_device (device_id, parent_id,
# id), not by scanning every device's top-level commands through the
# parent_id index (≈ 27 ms a call at 210k commands).  Schema version 5
# adds it; an older database gets it when the backend opens it.  The plan
# is SQLite's own, asked with the sqlite3 shell.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;

plan skip_all => 'the sqlite3 shell is not installed' unless OmadmTest::sqlite3_shell();

my $t = OmadmTest->new;
my $db = $t->dir . '/omadm.db';
sub sql { OmadmTest::sqlite3($db, $_[0]) }
# the query of Store::commands (store_commands.cpp)
sub plan_of_listing {
    sql("EXPLAIN QUERY PLAN SELECT id FROM commands WHERE device_id = 'a'"
        . " AND parent_id IS NULL ORDER BY id");
}

$t->start_backend;
my %ids;
for my $dev (qw(IMEI:a IMEI:b)) {
    $t->register_device($dev, 'u', 'p');
    push @{ $ids{$dev} }, $t->queue_command($dev, { verb => 'Get',
                                                    target => "./$dev/1" });
    push @{ $ids{$dev} }, $t->queue_command($dev, { verb => 'Atomic',
        commands => [ { verb => 'Get', target => './X' },
                      { verb => 'Get', target => './Y' } ] });
    push @{ $ids{$dev} }, $t->queue_command($dev, { verb => 'Get',
                                                    target => "./$dev/2" });
}
$t->stop_backend;

is(sql('PRAGMA user_version'), '5', 'a new database: schema version 5');
like(plan_of_listing(), qr/SEARCH commands USING (COVERING )?INDEX commands_top_level_by_device \(device_id=\? AND parent_id=\?\)/,
     'a device\'s top-level commands: searched by device and parent');
unlike(plan_of_listing(), qr/TEMP B-TREE/, '... already in id order');

# A version-4 database: without the index, the planner scans.
sql('DROP INDEX commands_top_level_by_device; PRAGMA user_version=4');
like(plan_of_listing(), qr/commands_by_parent/,
     'version 4: the parent_id index, every device\'s top-level commands');

$t->start_backend;
is(sql('PRAGMA user_version'), '5', 'opened: upgraded to version 5');
like(plan_of_listing(), qr/INDEX commands_top_level_by_device/,
     '... with the index');

my ($st, $list) = $t->api(GET => '/devices/' . OmadmTest::uri_escape('IMEI:a')
                                 . '/commands');
is($st, 200, 'GET commands: 200');
is_deeply([ map { $_->{id} } @$list ], $ids{'IMEI:a'},
          '... the device\'s own top-level commands, in order');
is(scalar @{ $list->[1]{commands} }, 2, '... the Atomic\'s two inside it');
$t->stop_backend;

done_testing;

#!/usr/bin/perl
# GET /api/v1/devices/{id}/commands reads one device's top-level commands
# through the index commands_top_level_by_device (device_id, parent_id,
# id), not by scanning every device's top-level commands through the
# parent_id index (≈ 27 ms a call at 210k commands).  Schema version 5
# adds it; an older database gets it when the backend opens it.  And the
# orphan pass at every session start (Store::requeue_sent) reads only the
# device's sent commands and each one's parent by key, not the finished
# commands of every device (110 sessions/s at 20k commands before).  The
# plans are SQLite's own, asked with the sqlite3 shell.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;

OmadmTest::Postgres::sqlite_only("asks SQLite's planner");

plan skip_all => 'the sqlite3 shell is not installed' unless OmadmTest::sqlite3_shell();

my $t = OmadmTest->new;
my $db = $t->dir . '/omadm.db';
sub sql { OmadmTest::sqlite3($db, $_[0]) }
# The statements are read from the backend's source, so that the plans
# checked are those of the code that runs: the C string literals of each
# `Stmt NAME(db_, "..." "...")` in FILE joined, the one that contains
# FRAGMENT taken, each ? bound to a literal.
sub statement_in {
    my ($file, $fragment) = @_;
    open my $fh, '<', "$FindBin::Bin/../backend/$file" or die "$file: $!";
    my $src = do { local $/; <$fh> };
    while ($src =~ /Stmt \w+\(db_,((?:\s*"(?:[^"\\]|\\.)*")+)\s*\)/g) {
        my $sql = join '', $1 =~ /"((?:[^"\\]|\\.)*)"/g;
        next unless index($sql, $fragment) >= 0;
        $sql =~ s/\?/'a'/g;
        return $sql;
    }
    die "no statement with '$fragment' in $file";
}
# Store::commands, and the orphan pass of Store::requeue_sent that runs at
# every session start
my $listing = statement_in('store_commands.cpp', 'parent_id IS NULL ORDER BY id');
my $orphans = statement_in('store_exchange.cpp',
                           "SET state = 'failed', updated_at = ? WHERE device_id");
sub plan_of_listing { sql("EXPLAIN QUERY PLAN $listing") }
sub plan_of_orphans { sql("EXPLAIN QUERY PLAN $orphans") }

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
is(sql('SELECT version FROM schema_migrations'), '5', '... in the version table too');
like(plan_of_listing(), qr/SEARCH commands USING (COVERING )?INDEX commands_top_level_by_device \(device_id=\? AND parent_id=\?\)/,
     'a device\'s top-level commands: searched by device and parent');
unlike(plan_of_listing(), qr/TEMP B-TREE/, '... already in id order');
like(plan_of_orphans(), qr/SEARCH commands USING INDEX commands_by_device \(device_id=\? AND state=\?\)/,
     'orphans at a session start: the device\'s sent commands only');
like(plan_of_orphans(), qr/SEARCH parent USING INTEGER PRIMARY KEY/,
     '... each one\'s parent by its key');
unlike(plan_of_orphans(), qr/\bSCAN\b/, '... no scan of anyone\'s history');

# A version-4 database: without the index, the planner scans.
# (From before the version table, too.)
sql('DROP INDEX commands_top_level_by_device; DROP TABLE schema_migrations;'
    . ' PRAGMA user_version=4');
like(plan_of_listing(), qr/commands_by_parent/,
     'version 4: the parent_id index, every device\'s top-level commands');

$t->start_backend;
is(sql('PRAGMA user_version'), '5', 'opened: upgraded to version 5');
is(sql('SELECT version FROM schema_migrations'), '5', '... recorded in the version table');
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

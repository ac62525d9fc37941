#!/usr/bin/perl
# An Exec with a Correlator, answered 202 (accepted, asynchronous), and the
# device's later Generic Alert 1226 echoing it: both reach the operator API.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new->start;
my $id = 'IMEI:356938035643809';
my $d = $t->device(id => $id, user => 'fw', pass => 'fwpass');
my $target = './FwUpdate/Pkg1/DownloadAndUpdate';
my $cid = $t->queue_command($id, { verb => 'Exec', target => $target,
                                   correlator => 'job-42' });

$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1);
my @cmds = OmadmTest::Device::commands($res->{syncml});
is(scalar @cmds, 1, 'one command');
is($cmds[0]{name}, 'Exec', 'an Exec');
is($cmds[0]{Correlator}, 'job-42', 'carrying the Correlator');
is($cmds[0]{items}[0]{target}, $target, 'and the target');

$res = $d->post($d->answer($res->{syncml}, codes => { $target => 202 }));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '200', 'answered');
my $c = $t->get_command($id, $cid);
is($c->{state}, 'done', '202 counts as done');
is($c->{status}, 202, 'with status 202');

# later: the asynchronous result, as a Generic Alert in a new session
$d->new_session;
$res = $d->post($d->package1(generic_alert => {
    correlator => 'job-42', source => $target, data => '200', format => 'int',
    type => 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
    mark => 'critical' }));
my @st = OmadmTest::Device::statuses($res->{syncml});
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '212', 'authenticated');
my ($ga) = grep { $_->{Cmd} eq 'Alert' && $_->{CmdRef} eq '3' } @st;
like($ga && $ga->{Data}, qr/^20[02]$/, 'Generic Alert acknowledged 200/202');

my ($st, $alerts) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($id)
                                   . '/alerts');
is($st, 200, 'alerts API');
$alerts = $alerts->{alerts} if ref $alerts eq 'HASH';
is(scalar @{ $alerts || [] }, 1, 'one alert recorded');
my $a = $alerts->[0] || {};
is($a->{code}, '1226', 'code 1226');
is($a->{correlator}, 'job-42', 'correlator echoed');
is_deeply([ map { [ @$_{qw(source type format mark data)} ] } @{ $a->{items} || [] } ],
          [ [ $target, 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
              'int', 'critical', '200' ] ], 'item as sent');

$t->check_error_log;
done_testing;

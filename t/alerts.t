#!/usr/bin/perl
# An Exec with a Correlator, answered 202 (accepted, asynchronous), and the
# device's later Generic Alert 1226 echoing it: both reach the operator API.
# A Windows 1224 (Meta Type) in package 1 and an in-session 1226 with two
# Items reach /alerts as sent; unauthenticated alerts are not kept.

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

# Windows: a 1224 with Meta Type in package 1 (kept only once the message
# is authenticated, and only once), then an in-session 1226 with two Items
my $wid = 'urn:uuid:0c9bd24c-bf84-4d2e-9a1e-6e1d6c0a6b31';
my $w = $t->device(id => $wid, user => 'win', pass => 'winpass');
my $wcid = $t->queue_command($wid, { verb => 'Get', target => './DevDetail/SwV' });
my $login = { code => '1224', items => [ {
    type => 'com.microsoft/MDM/LoginStatus', data => 'user' } ] };
$res = $w->post($w->package1(cred => undef, alerts => [ $login ]));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '407', '1224 unauthenticated: 407');
is_deeply([ map { "$_->{CmdRef}:$_->{Data}" } grep { $_->{Cmd} eq 'Alert' }
            OmadmTest::Device::statuses($res->{syncml}) ], [ '1:407', '2:407' ],
          '... and the 1201 and 1224 themselves answered 407');
($st, $alerts) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($wid) . '/alerts');
is_deeply($alerts, [], '... and not stored');

$res = $w->post($w->package1(alerts => [ $login ]));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '212', '1224 with Cred: 212');
my ($st1224) = grep { $_->{Cmd} eq 'Alert' && $_->{CmdRef} eq '3' }
               OmadmTest::Device::statuses($res->{syncml});
is($st1224 && $st1224->{Data}, '200', '... the 1224 acknowledged 200');
my ($st1201) = grep { $_->{Cmd} eq 'Alert' && $_->{CmdRef} eq '2' }
               OmadmTest::Device::statuses($res->{syncml});
is($st1201 && $st1201->{Data}, '200', '... the 1201 acknowledged 200');

my $two = { code => '1226', items => [
    { source => './Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/A/Status',
      type => 'com.microsoft:mdm.win32csp_install', format => 'int',
      mark => 'informational', data => '70' },
    { target => './Vendor/Acme/Inbox', source => './Vendor/Acme/Sensor',
      type => 'urn:acme:alert', format => 'chr', mark => 'critical',
      data => '<temp unit="C">81 & rising</temp>' } ] };
$res = $w->post($w->answer($res->{syncml}, tree => { './DevDetail/SwV' => '10.0' },
                           alerts => [ $two ]));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '200', 'in-session 1226 accepted');
my ($st1226) = grep { $_->{Cmd} eq 'Alert' } OmadmTest::Device::statuses($res->{syncml});
like($st1226 && $st1226->{Data}, qr/^20[02]$/, '... and acknowledged');
is($t->get_command($wid, $wcid)->{state}, 'done', 'the Get in the same message done');

($st, $alerts) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($wid) . '/alerts');
is($st, 200, 'alerts API');
my $empty = { map { ($_ => '') } qw(source target type format mark data) };
is_deeply([ map { { code => $_->{code}, correlator => $_->{correlator},
                    items => $_->{items} } } @{ $alerts || [] } ],
          [ { code => '1224', correlator => '',
              items => [ { %$empty, type => 'com.microsoft/MDM/LoginStatus',
                           data => 'user' } ] },
            { code => '1226', correlator => '',
              items => [ map { { %$empty, %$_ } } @{ $two->{items} } ] } ],
          'exactly the 1224 (once) and the 1226 with both Items, 1201 not forwarded');

$t->check_error_log;
done_testing;

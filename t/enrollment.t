#!/usr/bin/perl
# A Windows PC enrolls and is managed, end to end through nginx over TLS,
# by a client written from MS-MDE2: discovery, policy, enrollment with an
# enrollment user, the provisioning document checked as a device checks
# it, an MD5 OMA DM session shaped like Windows' first one with the
# provisioned account and nonce, a queued Get answered, the unenrollment
# alert, and the device's credentials refused afterwards.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Enrollment;
use OmadmTest::WindowsDevice;

my $t = OmadmTest::Enrollment::server();
my $e = OmadmTest::Enrollment->new($t);
my $base = 'https://127.0.0.1:' . $t->https_port;
my ($USER, $PASSWORD) = ('Alice@Example.com', 'correct horse battery');
my $DEVICE = 'B5B954E81FBCB94EB79BD08BE625F4EE';

my ($st, $u) = $t->api(POST => '/enrollment-users',
                       { username => $USER, password => $PASSWORD });
is($st, 201, 'enrollment user created');

# every answer goes out whole: Content-Length, neither chunked nor gzipped
sub sent_whole {
    my ($r, $what) = @_;
    my $h = $r->{res}{headers};
    ok(defined $h->{'content-length'}
       && $h->{'content-length'} == length($r->{res}{content})
       && !$h->{'transfer-encoding'} && !$h->{'content-encoding'},
       "$what: Content-Length, not chunked, not gzipped")
        or diag(explain $h);
}

# --- discovery -----------------------------------------------------------------

my $res = $e->{http}->get($e->url('Discovery.svc'),
                          { headers => { 'User-Agent' => 'ENROLLClient' } });
is($res->{status}, 200, 'GET Discovery.svc: 200');
is($res->{content}, '', '... with an empty body');
is($res->{headers}{'content-length'}, '0', '... Content-Length: 0');

my $r = $e->discover(version => '5.0');
is($r->{res}{status}, 200, 'Discover: 200');
sent_whole($r, 'Discover');
my $x = $r->{xpc};
is($x->findvalue('/s:Envelope/s:Header/a:Action'),
   'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/DiscoverResponse',
   '... Action DiscoverResponse');
is($x->findvalue('/s:Envelope/s:Header/a:RelatesTo'), $e->{last_message_id},
   '... RelatesTo the MessageID');
my $result = '/s:Envelope/s:Body/m:DiscoverResponse/m:DiscoverResult';
is($x->findvalue("$result/m:AuthPolicy"), 'OnPremise', '... AuthPolicy OnPremise');
is($x->findvalue("$result/m:EnrollmentVersion"), '5.0', '... EnrollmentVersion 5.0');
my $policy_url = $x->findvalue("$result/m:EnrollmentPolicyServiceUrl");
my $enroll_url = $x->findvalue("$result/m:EnrollmentServiceUrl");
is($policy_url, "$base/EnrollmentServer/Policy.svc", '... the policy URL from --public-url');
is($enroll_url, "$base/EnrollmentServer/Enrollment.svc", '... the enrollment URL');
is($e->discover(slash => 0)->{xpc}->findvalue("$result/m:AuthPolicy"), 'OnPremise',
   'Discover in the namespace without the trailing slash too');
for ([ '3.0', '4.0' ], [ '4.0', '4.0' ], [ '6.0', '5.0' ], [ '', '4.0' ]) {
    my ($asked, $answer) = @$_;
    is($e->discover(version => $asked)->{xpc}->findvalue("$result/m:EnrollmentVersion"), $answer,
       "RequestVersion '$asked': EnrollmentVersion $answer (4.0 to 5.0)");
}

# --- policy --------------------------------------------------------------------

$r = $e->get_policies(user => $USER, password => $PASSWORD);
is($r->{res}{status}, 200, 'GetPolicies with the enrollment user: 200')
    or diag($r->{res}{content});
sent_whole($r, 'GetPolicies');
$x = $r->{xpc};
my $attrs = '//xcep:GetPoliciesResponse/xcep:response/xcep:policies/xcep:policy/xcep:attributes';
is($x->findvalue("$attrs/xcep:privateKeyAttributes/xcep:minimalKeyLength"), '2048',
   '... an RSA key of at least 2048 bits');
my $hash_ref = $x->findvalue("$attrs/xcep:hashAlgorithmOIDReference");
is($x->findvalue("//xcep:GetPoliciesResponse/xcep:oIDs/xcep:oID[xcep:oIDReferenceID='$hash_ref']/xcep:value"),
   '2.16.840.1.101.3.4.2.1', '... signed with SHA-256');

# --- enrollment ------------------------------------------------------------------

my $key = $e->rsa_key(2048);
my $csr = $e->csr(key => $key, sig => 'sha256', device_id => $DEVICE,
                  subject => "562A7F9A-1C3E-4C1B-9A6B-0D1E2F3A4B5C!$DEVICE\0");
$r = $e->enroll(user => $USER, password => $PASSWORD, csr => $csr,
                context => { DeviceID => $DEVICE, HWDevID => 'HW-0001',
                             DeviceName => 'DESKTOP-ALICE', OSVersion => '10.0.19043.1' });
is($r->{res}{status}, 200, 'RequestSecurityToken: 200') or diag($r->{res}{content});
sent_whole($r, 'RequestSecurityToken');
$x = $r->{xpc};
is($x->findvalue('/s:Envelope/s:Header/a:Action'),
   'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep', '... Action RSTRC/wstep');
is($x->findvalue('/s:Envelope/s:Header/a:RelatesTo'), $e->{last_message_id}, '... RelatesTo');
ok($x->findvalue('/s:Envelope/s:Header/wsse:Security/u:Timestamp/u:Created')
   && $x->findvalue('/s:Envelope/s:Header/wsse:Security/u:Timestamp/u:Expires'),
   '... a u:Timestamp');
my $rstr = '/s:Envelope/s:Body/wst:RequestSecurityTokenResponseCollection/wst:RequestSecurityTokenResponse';
is($x->findvalue("$rstr/wst:TokenType"), $OmadmTest::Enrollment::TOKEN_TYPE, '... TokenType');
is($x->findvalue("$rstr/wst:RequestedSecurityToken/wsse:BinarySecurityToken/\@ValueType"),
   'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc',
   '... a provisioning document');

# --- the provisioning document, as the device reads it ----------------------------

my $p = eval { $e->provisioning($r) };
ok($p, 'the provisioning document is well-formed XML') or diag($@);
my $ca_der = $e->der_of($t->ca_file);
my @roots = OmadmTest::Enrollment::store_certs($p, 'Root', 'System');
is(scalar @roots, 1, 'one certificate for Root/System');
is($roots[0][0], OmadmTest::Enrollment::thumbprint($ca_der),
   '... named by the thumbprint of the CA that signed the server certificate');
ok($roots[0][1] eq $ca_der, '... and it is that CA');
my @inter = OmadmTest::Enrollment::store_certs($p, 'CA', 'System');
my @mine = OmadmTest::Enrollment::store_certs($p, 'My', 'User');
is(scalar @mine, 1, 'the client certificate in My/User (EnrollmentType Full)');
is($mine[0][0], OmadmTest::Enrollment::thumbprint($mine[0][1]), '... named by its thumbprint');
my $client_crt = $e->write_cert('client', $mine[0][1]);
my $chain = $e->write_cert('intermediate', $inter[0][1]);
my $verify = `openssl verify -CAfile ${\ $t->ca_file} -untrusted $chain -purpose sslclient $client_crt 2>&1`;
like($verify, qr/: OK$/m, '... it chains to the root through the device CA (CA/System)')
    or diag($verify);
ok($e->public_key_of($client_crt, 1) eq $e->public_key_of($key),
   '... and holds the public key of the CSR');
like(`openssl x509 -in $client_crt -noout -subject`, qr/CN\s*=\s*$DEVICE$/m,
     '... its subject is the DeviceID (not the CSR subject)');
ok(OmadmTest::Enrollment::parm($p, 'CertificateStore', 'My', 'WSTEP', 'Renew', 'ROBOSupport') eq 'true',
   'WSTEP/Renew: ROBOSupport');
is(OmadmTest::Enrollment::parm($p, 'APPLICATION', 'APPID'), 'w7', 'w7 APPLICATION');
my $addr = OmadmTest::Enrollment::parm($p, 'APPLICATION', 'ADDR');
is($addr, "$base/omadm", '... ADDR is the device endpoint');
my $provider = OmadmTest::Enrollment::parm($p, 'APPLICATION', 'PROVIDER-ID');
like(OmadmTest::Enrollment::parm($p, 'APPLICATION', 'SSLCLIENTCERTSEARCHCRITERIA'),
     qr/^Subject=CN%3d$DEVICE&Stores=My%5CUser$/, '... the TLS client certificate to present');
my $appsrv = OmadmTest::Enrollment::appauth($p, 'APPSRV');
my $client = OmadmTest::Enrollment::appauth($p, 'CLIENT');
is($appsrv->{AAUTHTYPE}, 'DIGEST', 'APPAUTH APPSRV: DIGEST');
ok(length($appsrv->{AAUTHNAME} // '') && length($appsrv->{AAUTHSECRET} // '') >= 16,
   '... a generated name and a long secret');
is(length(MIME::Base64::decode_base64($appsrv->{AAUTHDATA} // '')), 16,
   '... and a 16-byte initial nonce');
is($client->{AAUTHTYPE}, 'DIGEST', 'APPAUTH CLIENT: DIGEST');
ok(length($client->{AAUTHSECRET} // '') >= 16 && $client->{AAUTHSECRET} ne $appsrv->{AAUTHSECRET},
   '... the server\'s own secret');
is(length(MIME::Base64::decode_base64($client->{AAUTHDATA} // '')), 16, '... and nonce');
ok($p->{xpc}->exists("/wap-provisioningdoc/characteristic[\@type='DMClient']/characteristic[\@type='Provider']"
   . "/characteristic[\@type='$provider']/characteristic[\@type='Poll']/parm[\@name='IntervalForFirstSetOfRetries']"),
   'DMClient/Provider/<PROVIDER-ID>/Poll: the device comes back on its own');

# --- the device record --------------------------------------------------------------

my $dev = $t->get_device($DEVICE);
my $en = $dev->{enrollment} || {};
is($dev->{username}, $appsrv->{AAUTHNAME}, 'the device record holds the APPSRV user name');
is($en->{state}, 'enrolled', 'enrollment.state enrolled');
is($en->{user}, lc $USER, '... by the enrollment user');
is($en->{device_name}, 'DESKTOP-ALICE', '... device_name');
is($en->{os_version}, '10.0.19043.1', '... os_version');
is($en->{hw_dev_id}, 'HW-0001', '... hw_dev_id');
# the console's paged listing gives the same enrollment; /stats counts it
my ($lst, $page) = $t->api(GET => '/devices?limit=50');
my ($row) = grep { $_->{device_id} eq $DEVICE } @{ $page->{devices} || [] };
is_deeply($row && $row->{enrollment}, $dev->{enrollment},
          'GET /devices?limit=: the row has the enrollment of GET /devices/{id}');
my ($sst, $stats) = $t->api(GET => '/stats');
is($stats->{enrollment}{enrolled}, 1, 'GET /stats: one device enrolled');
is($en->{enrollment_type}, 'Full', '... enrollment_type');
is($en->{certificate}{thumbprint}, $mine[0][0], '... the certificate\'s thumbprint');
like($en->{certificate}{serial} // '', qr/^[0-9A-F]+$/, '... its serial');
like($en->{certificate}{not_after} // '', qr/^\d{4}-\d\d-\d\dT/, '... its expiry');
like($en->{enrolled_at} // '', qr/^\d{4}-/, '... enrolled_at');
my $json = encode_json($dev);
ok(index($json, $appsrv->{AAUTHSECRET}) < 0 && index($json, $client->{AAUTHSECRET}) < 0
   && index($json, $appsrv->{AAUTHDATA}) < 0, 'no secret or nonce in the API answer');

# --- managed over OMA DM with MD5 ------------------------------------------------

my $get = $t->queue_command($DEVICE, { verb => 'Get', target => './DevDetail/SwV' });
my $w = OmadmTest::WindowsDevice->new(addr => $addr, ca => $t->ca_file,
    id => $DEVICE, user => $appsrv->{AAUTHNAME}, pass => $appsrv->{AAUTHSECRET},
    nonce => $appsrv->{AAUTHDATA}, cert => $client_crt, key => $key, session => '1');
my $msg = $w->package1;
unlike($msg, qr/^<\?xml|<LocName>/, 'the first message: no XML declaration, no LocName');
like($msg, qr{<Target><LocURI>\Q$addr\E</LocURI>}, '... Target is ADDR without the query');
$res = $w->post($msg);
is($res->{status}, 200, "POST $addr?$OmadmTest::Enrollment::WINDOWS_QUERY: 200")
    or diag($res->{content});
my $s = $res->{syncml};
my $hs = $s && OmadmTest::Device::hdr_status($s);
is($hs && $hs->{Data}, '212', 'MD5 with the provisioned account and nonce: 212 at once');
is_deeply([ map { "$_->{Cmd}:$_->{CmdRef}:$_->{Data}" } $s ? OmadmTest::Device::statuses($s) : () ],
          [ 'SyncHdr:0:212', 'Alert:2:200', 'Alert:3:200', 'Replace:4:200' ],
          '... Statuses for CmdIDs 2, 3 and 4');
my @cmds = $s ? OmadmTest::Device::commands($s) : ();
is_deeply([ map { "$_->{name} $_->{items}[0]{target}" } @cmds ], [ 'Get ./DevDetail/SwV' ],
          '... and the queued Get');
$res = $w->post($w->answer($s, tree => { './DevDetail/SwV' => '10.0.19043.1266' }));
is($res->{status}, 200, 'the device answers the Get');
my $c = $t->get_command($DEVICE, $get);
is($c->{state}, 'done', 'the Get is done');
is($c->{results}[0]{data}, '10.0.19043.1266', '... with the device\'s value');
is($t->get_device($DEVICE)->{devinfo}{'./DevInfo/DmV'}, '1.3', 'DevInfo DmV 1.3 recorded');

# --- unenrollment -------------------------------------------------------------------

my $waiting = $t->queue_command($DEVICE, { verb => 'Get', target => './DevDetail/FwV' });
$w->new_session('2');
$res = $w->post($w->package1(alerts => [ OmadmTest::WindowsDevice::unenrollment_alert() ]));
$s = $res->{syncml};
$hs = $s && OmadmTest::Device::hdr_status($s);
is($hs && $hs->{Data}, '212', 'the next session logs in with the rotated nonce');
my ($alert_status) = grep { ($_->{CmdRef} // '') eq '5' } $s ? OmadmTest::Device::statuses($s) : ();
is($alert_status && $alert_status->{Data}, '200', 'the unenrollment alert: 200');
is(scalar($s ? OmadmTest::Device::commands($s) : ()), 0, '... and no command is sent');
$en = $t->get_device($DEVICE)->{enrollment};
is($en->{state}, 'unenrolled', 'enrollment.state unenrolled');
($sst, $stats) = $t->api(GET => '/stats');
is_deeply([ @{ $stats->{enrollment} }{qw(enrolled unenrolled)} ], [ 0, 1 ],
          'GET /stats: none enrolled, one unenrolled');
($lst, $page) = $t->api(GET => '/devices?limit=50');
($row) = grep { $_->{device_id} eq $DEVICE } @{ $page->{devices} || [] };
is($row && $row->{enrollment}{state}, 'unenrolled', '... and the listing row says unenrolled');
$c = $t->get_command($DEVICE, $waiting);
is($c->{state}, 'failed', 'the queued command failed');
like($c->{reason} // '', qr/unenrolled/, '... saying why');

$w->new_session('3');
$res = $w->post($w->package1);
$hs = $res->{syncml} && OmadmTest::Device::hdr_status($res->{syncml});
is($hs && $hs->{Data}, '401', 'after unenrollment the device\'s credentials are refused');
$w->new_session('4');
$res = $w->post($w->package1(cred => 'md5', nonce => $w->nonce));
$hs = $res->{syncml} && OmadmTest::Device::hdr_status($res->{syncml});
isnt($hs && $hs->{Data}, '212', '... whatever nonce it tries');

# --- no secret in any log -----------------------------------------------------------

my $logs = $t->backend_log . $t->error_log . $t->access_log;
ok(index($logs, $PASSWORD) < 0, 'the enrollment password is in no log');
ok(index($logs, $appsrv->{AAUTHSECRET}) < 0 && index($logs, $client->{AAUTHSECRET}) < 0,
   'nor the generated secrets');
like($t->backend_log, qr/enrollment: device $DEVICE enrolled by \Q${\ lc $USER}\E/,
     'the backend logs who enrolled which device');

$t->check_error_log;
done_testing;

#!/usr/bin/perl
# The server authenticating itself to the device (omadm-protocol.md §5.2,
# §5.3; omadm_server_auth): a server Cred in the SyncHdr of its answers,
# MD5 over the nonce the device issued in its Chal (kept by the backend for
# the next session) or Basic, checked here as a device would; the device's
# 401 on the server's SyncHdr answered once with the commands again and a
# fresh Cred, a second 401 ending the session with the command queued again.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::MD5 qw(md5);
use MIME::Base64 qw(encode_base64 decode_base64);
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::SyncML;

my $t = OmadmTest->new(locations => {
    '/omadm'     => {},
    '/srv-md5'   => { omadm_server_auth => 'md5' },
    '/srv-basic' => { omadm_server_auth => 'basic' },
})->start;

my ($SRV, $SRVPW) = ('dm.example.com', 'srvsecret');
my $srv_inner = OmadmTest::Device::b64(md5("$SRV:$SRVPW"));

sub register {
    my ($id) = @_;
    my ($st, $dev) = $t->api(POST => '/devices', { device_id => $id,
        username => 'dev1', password => 'secret',
        server_username => $SRV, server_password => $SRVPW });
    is($st, 201, "registered $id with server credentials");
    is($dev->{server_username}, $SRV, 'the API shows the server name');
    ok(!grep({ /password|inner|basic/ } keys %$dev), 'and no server secret');
}

# the server's Cred in a response: (type, data, LocName)
sub server_cred {
    my ($res) = @_;
    my $root = OmadmTest::SyncML::parse_xml($res->{content});
    my $h = OmadmTest::SyncML::kid($root, 'SyncHdr');
    return (OmadmTest::SyncML::text($h, 'Cred/Meta/Type'),
            OmadmTest::SyncML::text($h, 'Cred/Data'),
            OmadmTest::SyncML::text($h, 'Source/LocName'));
}

sub md5_ok {
    my ($res, $nonce, $what) = @_;
    my ($type, $data, $name) = server_cred($res);
    is($type, 'syncml:auth-md5', "$what: server Cred is md5");
    is($name, $SRV, "$what: Source/LocName is the server name");
    is($data, OmadmTest::Device::b64(md5($srv_inner . ':'
                                         . decode_base64($nonce))),
       "$what: the digest verifies with the server secret and nonce");
}

sub hs { OmadmTest::Device::hdr_status($_[0]{syncml}) }
sub cmds { OmadmTest::Device::commands($_[0]{syncml}) }

# ---- MD5
my $id = 'IMEI:200000000000001';
register($id);
my $get = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
my $d = $t->device(register => 0, path => '/srv-md5', id => $id,
                   user => 'dev1', pass => 'secret');
$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1(cred => 'md5'));
is(hs($res)->{Data}, '212', 'md5: device authenticated');
md5_ok($res, '', 'md5, no nonce issued yet');
is(scalar(cmds($res)), 1, 'md5: the Get is sent');

# the device refuses the server: 401 + Chal with a nonce, executes nothing
my $n1 = encode_base64(join('', map { chr } 1 .. 16), '');
$d->{hdr_reply} = { code => 401, nonce => $n1 };
$res = $d->post($d->answer($res->{syncml},
                           codes => { './DevDetail/SwV' => 401 }));
is(hs($res)->{Data}, '200', 'refused once: the device message is accepted');
md5_ok($res, $n1, 'resend with the nonce of the device Chal');
my @c = cmds($res);
is(scalar(@c), 1, 'the Get is sent again');
is($c[0]{items}[0]{target}, './DevDetail/SwV', 'the same command');
my $cmd = $t->get_command($id, $get);
is($cmd->{state}, 'sent', 'not failed by the refused Status');
is($cmd->{status}, undef, 'no status recorded');

# refused again: the session ends, the command is queued again
my $n2 = encode_base64(join('', map { chr(16 + $_) } 1 .. 16), '');
$d->{hdr_reply} = { code => 401, nonce => $n2 };
$res = $d->post($d->answer($res->{syncml},
                           codes => { './DevDetail/SwV' => 401 }));
is($res->{status}, 200, 'refused twice: 200');
is(scalar(cmds($res)), 0, 'no commands: the session ends');
ok($res->{syncml}{final}, 'Final');
$cmd = $t->get_command($id, $get);
is($cmd->{state}, 'queued', 'the command is queued again');

# the next session: the server Cred uses the nonce the device issued last
$d->new_session;
$res = $d->post($d->package1(cred => 'md5'));
is(hs($res)->{Data}, '212', 'next session: 212');
md5_ok($res, $n2, 'next session (nonce kept by the backend)');
@c = cmds($res);
is(scalar(@c), 1, 'the Get again');
$d->{hdr_reply} = { code => 212 };
$t->queue_command($id, { verb => 'Get', target => './DevDetail/FwV' });
$res = $d->post($d->answer($res->{syncml},
                           tree => { './DevDetail/SwV' => '4.2.1' }));
is($t->get_command($id, $get)->{state}, 'done', 'accepted: the Get is done');
my ($type) = server_cred($res);
is($type, undef, 'after the device said 212 the server sends no Cred');
is(scalar(cmds($res)), 1, 'the next command goes out');

# ---- Basic
my $idb = 'IMEI:200000000000002';
register($idb);
$t->queue_command($idb, { verb => 'Get', target => './DevDetail/SwV' });
my $db = $t->device(register => 0, path => '/srv-basic', id => $idb,
                    user => 'dev1', pass => 'secret');
$db->post($db->package1(cred => undef));
$res = $db->post($db->package1(cred => 'md5'));
my ($btype, $bdata, $bname) = server_cred($res);
is($btype, 'syncml:auth-basic', 'basic: server Cred is basic');
is($bdata, encode_base64("$SRV:$SRVPW", ''), 'basic: B64(name:secret)');
is($bname, $SRV, 'basic: LocName is the server name');

# ---- off (the default): no server Cred
my $ido = 'IMEI:200000000000003';
register($ido);
$t->queue_command($ido, { verb => 'Get', target => './DevDetail/SwV' });
my $do = $t->device(register => 0, id => $ido, user => 'dev1', pass => 'secret');
$do->post($do->package1(cred => undef));
$res = $do->post($do->package1(cred => 'md5'));
($type) = server_cred($res);
is($type, undef, 'omadm_server_auth off: no server Cred');

# ---- a device registered without server credentials: no Cred either
$t->register_device('IMEI:200000000000004', 'u', 'p');
my $dn = $t->device(register => 0, path => '/srv-md5',
                    id => 'IMEI:200000000000004', user => 'u', pass => 'p');
$dn->post($dn->package1(cred => undef));
$res = $dn->post($dn->package1(cred => 'md5'));
is(hs($res)->{Data}, '212', 'no server credentials: still 212');
($type) = server_cred($res);
is($type, undef, 'and no server Cred');

# ---- operator API validation
my ($st) = $t->api(POST => '/devices', { device_id => 'x', username => 'u',
    password => 'p', server_username => 'only-name' });
is($st, 400, 'server_username without server_password: 400');

$t->check_error_log;
done_testing;

package OmadmTest::Enrollment;

# A Windows enrollment client written from the specifications (MS-MDE2,
# MS-XCEP, MS-WSTEP; ../shared/docs/windows-enrollment.md): it builds the
# SOAP requests of discovery, policy and enrollment, makes its RSA key with
# the openssl CLI and its PKCS#10 request by hand (DER, so that it can be
# shaped exactly like Windows': SHA-1 under the old OID, a subject with '!'
# and a trailing NUL, the DeviceID extension), and reads the answers with
# XML::LibXML, as strictly as a device would.
#
#   my $t = OmadmTest::Enrollment::server();       # started, enrollment on
#   my $e = OmadmTest::Enrollment->new($t);
#   my $r = $e->discover;  $r->{xpc}->findvalue('//m:AuthPolicy')
#   my $key = $e->rsa_key;  my $csr = $e->csr(key => $key, device_id => 'AB..');
#   $r = $e->enroll(user => 'u@example.com', password => 'pw', csr => $csr,
#                   context => { DeviceID => 'AB..' });
#   my $p = $e->provisioning($r);    # the decoded wap-provisioningdoc

use strict;
use warnings;
use Digest::SHA qw(sha1_hex);
use HTTP::Tiny;
use MIME::Base64 qw(encode_base64 decode_base64);
use XML::LibXML;
use OmadmTest;

our %NS = (
    s    => 'http://www.w3.org/2003/05/soap-envelope',
    a    => 'http://www.w3.org/2005/08/addressing',
    u    => 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
    wsse => 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
    wst  => 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
    ac   => 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
    m    => 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
    xcep => 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy',
    enr  => 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
);

our %ACTION = (
    discover => 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
    policies => 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies',
    enroll   => 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
);

our $TOKEN_TYPE = 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken';
our $PKCS10 = 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10';
our $PKCS7 = 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS7';
our $BASE64 = "$NS{wsse}#base64binary";
our $ISSUE = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue';
our $RENEW = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Renew';
our $WINDOWS_QUERY = 'mode=Maintenance&Platform=WoA';

# --- the server ----------------------------------------------------------------

# An OmadmTest server with the enrollment services on, configured as
# scripts/nginx.conf.in does: /EnrollmentServer/ proxied to the backend
# (which trusts the client certificate and address nginx passes only with
# the contract key), TLS client certificates verified when sent
# (ssl_verify_client optional) against the device CA chain.  %o goes to
# OmadmTest->new.  Started.
sub server {
    my (%o) = @_;
    my $t = OmadmTest->new(%o);
    my $d = $t->dir;
    system("$OmadmTest::ROOT/scripts/gen-device-ca.sh", $d, "$d/ca-private/ca.key") == 0
        or die "gen-device-ca.sh failed\n";
    my $api = $t->api_port;
    my $key = $t->{key};
    $t->{server_conf} = ($t->{server_conf} // '') . <<"CONF";
        ssl_verify_client optional;
        ssl_client_certificate $d/device-chain.crt;
        ssl_verify_depth 2;
        location /EnrollmentServer/ {
            proxy_pass http://127.0.0.1:$api;
            proxy_set_header X-Omadm-Key "$key";
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Client-Cert \$ssl_client_escaped_cert;
            proxy_set_header X-Client-Verify \$ssl_client_verify;
            client_max_body_size 64k;
            gzip off;
        }
CONF
    $t->{backend_args} = [
        '--public-url', 'https://127.0.0.1:' . $t->https_port,
        '--device-ca-cert', "$d/device-ca.crt",
        '--device-ca-key', "$d/device-ca.key",
        '--root-ca-cert', "$d/ca.crt",
        @{ $t->{backend_args} || [] } ];
    return $t->start;
}

# --- the client -----------------------------------------------------------------

# new($t, cert => file, key => file): the TLS client certificate to
# present (PEM files), as a renewing device does.
sub new {
    my ($class, $t, %o) = @_;
    my $self = bless { t => $t, n => 0, %o }, $class;
    $self->{http} = HTTP::Tiny->new(timeout => 20, keep_alive => 0,
        verify_SSL => 1, SSL_options => {
            SSL_ca_file => $t->ca_file,
            ($o{cert} ? (SSL_cert_file => $o{cert}, SSL_key_file => $o{key}) : ()) });
    return $self;
}

sub url { my ($self, $svc) = @_; return $self->{t}->device_url("/EnrollmentServer/$svc") }

sub message_id { my ($self) = @_; return sprintf 'urn:uuid:00000000-0000-4000-8000-%012d', ++$self->{n} }

# A SOAP 1.2 request as Windows writes it.  security: XML for wsse:Security.
sub envelope {
    my ($self, %o) = @_;
    my $id = exists $o{message_id} ? $o{message_id} : $self->message_id;
    $self->{last_message_id} = $id;
    return qq{<s:Envelope xmlns:s="$NS{s}" xmlns:a="$NS{a}" xmlns:u="$NS{u}" }
        . qq{xmlns:wsse="$NS{wsse}" xmlns:wst="$NS{wst}" xmlns:ac="$NS{ac}">}
        . '<s:Header>'
        . qq{<a:Action s:mustUnderstand="1">$o{action}</a:Action>}
        . (defined $id ? "<a:MessageID>$id</a:MessageID>" : '')
        . '<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous'
        . '</a:Address></a:ReplyTo>'
        . qq{<a:To s:mustUnderstand="1">$o{to}</a:To>}
        . ($o{security} // '')
        . "</s:Header><s:Body>$o{body}</s:Body></s:Envelope>";
}

sub username_token {
    my ($user, $password) = @_;
    return qq{<wsse:Security s:mustUnderstand="1"><wsse:UsernameToken u:Id="uuid-1">}
        . '<wsse:Username>' . _esc($user) . '</wsse:Username>'
        . '<wsse:Password wsse:Type="http://docs.oasis-open.org/wss/2004/01/'
        . 'oasis-200401-wss-username-token-profile-1.0#PasswordText">'
        . _esc($password) . '</wsse:Password></wsse:UsernameToken></wsse:Security>';
}

# POSTs a SOAP body (Windows' headers) and reads the answer.  Returns
# { res => HTTP::Tiny response, doc, xpc } (doc/xpc when the body is XML).
sub post {
    my ($self, $svc, $xml, %o) = @_;
    my $res = $self->{http}->post($self->url($svc), { headers => {
        'Content-Type' => 'application/soap+xml; charset=utf-8',
        'Accept-Encoding' => 'gzip', 'User-Agent' => 'ENROLLClient',
        %{ $o{headers} || {} } }, content => $xml });
    return read_answer($res);
}

sub read_answer {
    my ($res) = @_;
    my $r = { res => $res };
    if (($res->{headers}{'content-type'} // '') =~ /xml/) {
        $r->{doc} = XML::LibXML->load_xml(string => $res->{content},
                                          no_network => 1);
        $r->{xpc} = xpc($r->{doc});
    }
    return $r;
}

sub xpc {
    my ($node) = @_;
    my $x = XML::LibXML::XPathContext->new($node);
    $x->registerNs($_, $NS{$_}) for keys %NS;
    return $x;
}

# "s:Sender s:MessageFormat: reason" of a fault answer, "" otherwise.
sub fault_of {
    my ($r) = @_;
    return '' unless $r->{xpc};
    my $x = $r->{xpc};
    return '' unless $x->exists('/s:Envelope/s:Body/s:Fault');
    return join ' ', $x->findvalue('//s:Fault/s:Code/s:Value'),
        $x->findvalue('//s:Fault/s:Code/s:Subcode/s:Value') . ':',
        $x->findvalue('//s:Fault/s:Reason/s:Text');
}

# Posts the operation $op (a key of %ACTION) with this Body: action =>
# another a:Action, message_id => undef for none; user/password sign in
# (wsse:UsernameToken).
sub call {
    my ($self, $op, $svc, $body, %o) = @_;
    my $sec = defined $o{user} ? username_token($o{user}, $o{password}) : '';
    return $self->post($svc, $self->envelope(action => $o{action} // $ACTION{$op},
        to => $self->url($svc), security => $sec, body => $body,
        map { exists $o{$_} ? ($_ => $o{$_}) : () } 'message_id'), %o);
}

sub discover {
    my ($self, %o) = @_;
    my $policies = join '', map { "<AuthPolicy>$_</AuthPolicy>" }
        @{ $o{auth_policies} || ['OnPremise'] };
    # Microsoft's sample writes the namespace with a trailing '/', the
    # WSDL without: slash => 0 for the latter
    my $ns = $NS{m} . (($o{slash} // 1) ? '/' : '');
    my $body = qq{<Discover xmlns="$ns"><request xmlns:i="http://www.w3.org/2001/XMLSchema-instance">}
        . '<EmailAddress>' . ($o{email} // 'user@example.com') . '</EmailAddress>'
        . '<RequestVersion>' . ($o{version} // '5.0') . '</RequestVersion>'
        . '<DeviceType>CIMClient_Windows</DeviceType>'
        . '<ApplicationVersion>10.0.19043.1</ApplicationVersion>'
        . '<OSEdition>48</OSEdition>'
        . "<AuthPolicies>$policies</AuthPolicies></request></Discover>";
    return $self->call(discover => 'Discovery.svc', $body, %o);
}

sub get_policies {
    my ($self, %o) = @_;
    my $body = qq{<GetPolicies xmlns="$NS{xcep}"><client>}
        . '<lastUpdate xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
        . '<preferredLanguage xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
        . '</client><requestFilter xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
        . '</GetPolicies>';
    return $self->call(policies => 'Policy.svc', $body, %o);
}

# enroll(user, password, csr => DER, context => {Name => value},
#        request_type => $ISSUE|$RENEW, value_type => $PKCS10|$PKCS7)
sub enroll {
    my ($self, %o) = @_;
    my %ctx = (DeviceType => 'CIMClient_Windows', EnrollmentType => 'Full',
               ApplicationVersion => '10.0.19043.1', OSEdition => '48',
               OSVersion => '10.0.19043.1', DeviceName => 'DESKTOP-TEST',
               Locale => 'en-US', UXInitiated => 'true',
               TargetedUserLoggedIn => 'true', NotInOobe => 'true',
               %{ $o{context} || {} });
    my $items = join '', map {
        qq{<ac:ContextItem Name="$_"><ac:Value>} . _esc($ctx{$_})
            . '</ac:Value></ac:ContextItem>' } sort grep { defined $ctx{$_} } keys %ctx;
    $items .= '<ac:ContextItem Name="MAC"><ac:Value>00:11:22:33:44:55</ac:Value></ac:ContextItem>'
            . '<ac:ContextItem Name="MAC"><ac:Value>66:77:88:99:AA:BB</ac:Value></ac:ContextItem>';
    my $body = '<wst:RequestSecurityToken>'
        . "<wst:TokenType>$TOKEN_TYPE</wst:TokenType>"
        . '<wst:RequestType>' . ($o{request_type} // $ISSUE) . '</wst:RequestType>'
        . '<wsse:BinarySecurityToken ValueType="' . ($o{value_type} // $PKCS10)
        . qq{" EncodingType="$BASE64">} . encode_base64($o{csr}, "\r\n")
        . '</wsse:BinarySecurityToken>'
        . "<ac:AdditionalContext>$items</ac:AdditionalContext>"
        . '</wst:RequestSecurityToken>';
    return $self->call(enroll => 'Enrollment.svc', $body, %o);
}

# The wap-provisioningdoc of an RSTRC answer, decoded and parsed (dies if
# it is not well-formed XML): { xml, doc, xpc }.
sub provisioning {
    my ($self, $r) = @_;
    my $b64 = $r->{xpc}->findvalue('/s:Envelope/s:Body/wst:RequestSecurityTokenResponseCollection'
        . '/wst:RequestSecurityTokenResponse/wst:RequestedSecurityToken/wsse:BinarySecurityToken');
    my $xml = decode_base64($b64);
    my $doc = XML::LibXML->load_xml(string => $xml, no_network => 1);
    return { xml => $xml, doc => $doc, xpc => xpc($doc) };
}

# parm value under a characteristic path: parm($p, 'APPLICATION', 'ADDR')
sub parm {
    my ($p, @path) = @_;
    my $name = pop @path;
    my $xp = join('', map { "/characteristic[\@type='$_']" } @path);
    return $p->{xpc}->findvalue("/wap-provisioningdoc$xp/parm[\@name='$name']/\@value");
}

# APPAUTH parms of one level: { AAUTHNAME => ..., ... }
sub appauth {
    my ($p, $level) = @_;
    my ($node) = $p->{xpc}->findnodes("/wap-provisioningdoc/characteristic[\@type='APPLICATION']"
        . "/characteristic[\@type='APPAUTH'][parm[\@name='AAUTHLEVEL'][\@value='$level']]");
    return {} unless $node;
    return { map { $_->getAttribute('name') => $_->getAttribute('value') }
             $node->findnodes('parm') };
}

# The certificates a store path holds: ([thumbprint, DER], ...)
sub store_certs {
    my ($p, @path) = @_;
    my $xp = '/wap-provisioningdoc/characteristic[@type=\'CertificateStore\']'
        . join('', map { "/characteristic[\@type='$_']" } @path);
    return map {
        [ $_->getAttribute('type'),
          decode_base64($_->findvalue("parm[\@name='EncodedCertificate']/\@value")) ]
    } grep { $_->exists("parm[\@name='EncodedCertificate']") }
      $p->{xpc}->findnodes("$xp/characteristic");
}

# --- keys and certificate requests ----------------------------------------------

sub openssl { my ($self, @args) = @_; $self->{t}->openssl(@args) }

sub file { my ($self, $name) = @_; return $self->{t}->dir . "/$name" }

# A new RSA key; returns its PEM file's name (in the test directory).
sub rsa_key {
    my ($self, $bits) = @_;
    my $f = $self->file('key-' . ++$self->{keys} . '.pem');
    $self->openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt',
                   'rsa_keygen_bits:' . ($bits // 2048), '-out', $f);
    return $f;
}

sub _der_len {
    my ($l) = @_;
    return chr($l) if $l < 128;
    my $b = '';
    while ($l) { $b = chr($l & 255) . $b; $l >>= 8 }
    return chr(0x80 | length $b) . $b;
}
sub _der { my ($tag, $content) = @_; return chr($tag) . _der_len(length $content) . $content }
sub _oid {
    my @p = split /\./, $_[0];
    my $b = chr(40 * $p[0] + $p[1]);
    for my $v (@p[2 .. $#p]) {
        my $s = chr($v & 0x7f);
        $v >>= 7;
        while ($v) { $s = chr(0x80 | ($v & 0x7f)) . $s; $v >>= 7 }
        $b .= $s;
    }
    return _der(0x06, $b);
}
sub _seq { return _der(0x30, join '', @_) }

my %SIG_OID = (
    sha256 => '1.2.840.113549.1.1.11',    # sha256WithRSAEncryption
    sha1   => '1.2.840.113549.1.1.5',     # sha1WithRSAEncryption
    sha1_oiw => '1.3.14.3.2.29',          # sha1WithRSASignature, Windows'
);

# A PKCS#10 request in DER.  key => PEM file; subject => the CN's bytes
# (as a PrintableString, like Windows'); device_id => the
# 1.3.6.1.4.1.311.66.1.0 extension; sig => sha256 | sha1 | sha1_oiw;
# tamper => 1 spoils the signature.
sub csr {
    my ($self, %o) = @_;
    my $spki_file = $self->file('spki-' . ++$self->{csrs} . '.der');
    $self->openssl('pkey', '-in', $o{key}, '-pubout', '-outform', 'DER',
                   '-out', $spki_file);
    my $spki = OmadmTest::_slurp($spki_file);
    my $subject = _seq(_der(0x31, _seq(_oid('2.5.4.3'),
        _der(0x13, $o{subject} // 'ngx_omadm test device'))));
    my $attrs = '';
    if (defined $o{device_id}) {
        my $ext = _seq(_oid('1.3.6.1.4.1.311.66.1.0'),
                       _der(0x04, _der(0x04, $o{device_id})));
        $attrs = _seq(_oid('1.2.840.113549.1.9.14'), _der(0x31, _seq($ext)));
    }
    my $info = _seq(_der(0x02, "\0"), $subject, $spki, _der(0xa0, $attrs));
    my $info_file = "$spki_file.info";
    OmadmTest::_write($info_file, $info);
    my $sig_kind = $o{sig} // 'sha256';
    my $md = $sig_kind eq 'sha256' ? '-sha256' : '-sha1';
    $self->openssl('dgst', $md, '-sign', $o{key}, '-out', "$info_file.sig",
                   $info_file);
    my $sig = OmadmTest::_slurp("$info_file.sig");
    substr($sig, 10, 1) = chr(ord(substr($sig, 10, 1)) ^ 1) if $o{tamper};
    return _seq($info, _seq(_oid($SIG_OID{$sig_kind}), _der(0x05, '')),
                _der(0x03, "\0$sig"));
}

# The SubjectPublicKeyInfo of a PEM key or certificate file, DER.
sub public_key_of {
    my ($self, $file, $is_cert) = @_;
    my $out = $self->file('pub-' . ++$self->{pubs} . '.der');
    if ($is_cert) {
        $self->openssl('x509', '-in', $file, '-noout', '-pubkey', '-out', "$out.pem");
        $self->openssl('pkey', '-pubin', '-in', "$out.pem", '-outform', 'DER', '-out', $out);
    } else {
        $self->openssl('pkey', '-in', $file, '-pubout', '-outform', 'DER', '-out', $out);
    }
    return OmadmTest::_slurp($out);
}

# Writes DER certificate bytes as name.crt (PEM) in the test directory.
sub write_cert {
    my ($self, $name, $der) = @_;
    my $pem = "-----BEGIN CERTIFICATE-----\n" . encode_base64($der)
        . "-----END CERTIFICATE-----\n";
    OmadmTest::_write($self->file("$name.crt"), $pem);
    return $self->file("$name.crt");
}

sub thumbprint { return uc sha1_hex($_[0]) }

# The DER of a PEM certificate file.
sub der_of {
    my ($self, $pem_file) = @_;
    my $out = $self->file('der-' . ++$self->{ders} . '.der');
    $self->openssl('x509', '-in', $pem_file, '-outform', 'DER', '-out', $out);
    return OmadmTest::_slurp($out);
}

sub _esc {
    my ($s) = @_;
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    return $s;
}

1;

package OmadmTest::WindowsDevice;

# An enrolled Windows PC's OMA DM client, shaped like the real one
# (omadm-protocol.md section 6, windows-enrollment.md "After enrollment"):
# it POSTs to the provisioned ADDR with "?mode=Maintenance&Platform=WoA"
# while its Target/LocURI is ADDR without it, sends no XML declaration and
# no LocName, numbers its commands from 2, and opens each session with
# Alert 1201, Alert 1224 (LoginStatus) and a DevInfo Replace with DmV 1.3.
# It presents its enrollment certificate in TLS.  Everything else is
# OmadmTest::Device.
#
#   my $w = OmadmTest::WindowsDevice->new(addr => ADDR, ca => $t->ca_file,
#       id => DeviceID, user => AAUTHNAME, pass => AAUTHSECRET,
#       nonce => AAUTHDATA, cert => crt, key => key);

use strict;
use warnings;
use parent -norequire, 'OmadmTest::Device';
use OmadmTest::Device;
use OmadmTest::NoDelay;
use OmadmTest::SyncML qw(xml_escape);
use OmadmTest::Enrollment;

sub new {
    my ($class, %o) = @_;
    my $addr = delete $o{addr};
    my $self = OmadmTest::Device::new($class,
        url => "$addr?$OmadmTest::Enrollment::WINDOWS_QUERY", no_locname => 1,
        devinfo => { Man => 'Dell Inc.', Mod => 'XPS 13 9310', Lang => 'en-US' },
        %o);
    $self->{addr} = $addr;
    return $self->present($o{cert}, $o{key});
}

# From now on presents this certificate (PEM files) in TLS, e.g. a renewed one.
sub present {
    my ($self, $cert, $key) = @_;
    $self->{http} = OmadmTest::NoDelay->new(timeout => 10, keep_alive => 0,
        verify_SSL => 1, SSL_options => { SSL_ca_file => $self->{ca},
            ($cert ? (SSL_cert_file => $cert, SSL_key_file => $key) : ()) });
    return $self;
}

# Target/LocURI: the URL posted to, without Windows' query string.
sub header {
    my ($self, %o) = @_;
    local $self->{url} = $self->{url} eq $self->{base_url} ? $self->{addr}
                                                            : $self->{url};
    return $self->SUPER::header(%o);
}

# No XML declaration.
sub _wrap {
    my ($self, $hdr, $body) = @_;
    my ($ns) = $self->_ver;
    return qq{<SyncML xmlns="$ns">$hdr<SyncBody>$body<Final/></SyncBody></SyncML>};
}

# The first message of a session: alerts => [{..}] (OmadmTest::Device's
# alert) after the DevInfo Replace, e.g. the unenrollment alert.
sub package1 {
    my ($self, %o) = @_;
    $self->{msg_id}++;
    my $n = 2;
    my $body = '<Alert><CmdID>' . $n++ . '</CmdID><Data>1201</Data></Alert>'
        . '<Alert><CmdID>' . $n++ . '</CmdID><Data>1224</Data><Item><Meta>'
        . '<Type xmlns="syncml:metinf">com.microsoft/MDM/LoginStatus</Type>'
        . '</Meta><Data>user</Data></Item></Alert>';
    my %di = (DevId => $self->{id}, DmV => '1.3', %{ $self->{devinfo} });
    $body .= '<Replace><CmdID>' . $n++ . '</CmdID>'
        . join('', map { "<Item><Source><LocURI>./DevInfo/$_</LocURI></Source>"
                         . '<Data>' . xml_escape($di{$_}) . '</Data></Item>' }
               qw(DevId Man Mod DmV Lang))
        . '</Replace>';
    $body .= $self->alert($n++, $_) for @{ $o{alerts} || [] };
    my $cred = exists $o{cred} ? $o{cred} : 'md5';
    return $self->_wrap($self->header(%o, cred => $cred), $body);
}

# Windows' Generic Alert when the user removes the work account.
sub unenrollment_alert {
    return { code => 1226, items => [ {
        type => 'com.microsoft:mdm.unenrollment.userrequest',
        format => 'int', data => '1' } ] };
}

1;

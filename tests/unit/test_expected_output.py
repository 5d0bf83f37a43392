"""The docs harness's expected-output matching: wildcards a reader can read."""

import pytest

from harness.expected_output import output_matches, updated_expected

CURL_VERBOSE = """*   Trying 127.0.0.1:8086...
* Connected to localhost (127.0.0.1) port 8086 (#0)
* SSL connection using TLSv1.3 / TLS_AES_128_GCM_SHA256
* Server certificate:
*  subject: CN=localhost
*  SSL certificate verify ok.
< HTTP/2 204
"""


def test_exact_text_matches_only_itself():
    assert output_matches("a\nb\n", "a\nb\n")
    assert not output_matches("a\nb\n", "a\nc\n")
    assert not output_matches("a\n", "a\nb\n")


def test_trailing_spaces_and_final_blank_lines_are_ignored():
    assert output_matches("X509v3 Subject Alternative Name:\n",
                          "X509v3 Subject Alternative Name: \n\n")


def test_an_ellipsis_line_matches_any_number_of_lines():
    expected = "...\n* SSL connection using TLSv1.3 / ...\n...\n< HTTP/2 204\n"
    assert output_matches(expected, CURL_VERBOSE)
    assert output_matches("...\n< HTTP/2 204\n", "< HTTP/2 204\n")  # none at all


def test_an_ellipsis_line_does_not_hide_a_wrong_line():
    assert not output_matches("...\n< HTTP/2 204\n", CURL_VERBOSE.replace("204", "401"))
    assert not output_matches("...\n*  SSL certificate verify ok.\n...\n",
                              CURL_VERBOSE.replace("verify ok", "verify result: 18"))


def test_an_ellipsis_inside_a_line_stays_within_that_line():
    assert output_matches("curl: (60) SSL certificate problem: ...\n",
                          "curl: (60) SSL certificate problem: self-signed certificate\n")
    assert not output_matches("curl: (60) ...\n", "curl: (60) a\nmore\n")


@pytest.mark.parametrize("got", ["", "\n", "one line\n"])
def test_an_expected_output_of_only_an_ellipsis_matches_anything(got):
    assert output_matches("...\n", got)


def test_update_keeps_wildcards_that_still_match_and_replaces_the_rest():
    old = "subject=CN = ...\nissuer=CN = Old CA\n"
    new = "subject=CN = localhost\nissuer=CN = New CA\n"
    assert updated_expected(old, new) == "subject=CN = ...\nissuer=CN = New CA\n"
    assert updated_expected("a\n", "b\n") == "b\n"
    assert updated_expected("same ...\n", "same thing\n") == "same ...\n"

# Sourced after versions.env by every image build script: the Debian release
# the host images are built on. RUNBOOK_RELEASE picks one of DEBIAN_RELEASES
# (default DEBIAN_SUITE, the first). Another release gets image names of its
# own (IMAGE_NAME-RELEASE-...), so that each script's removal of its old tags
# never touches the other release's images, and its own certbot pin.
release=${RUNBOOK_RELEASE:-$DEBIAN_SUITE}
# One word of DEBIAN_RELEASES ("bookworm trixie" as one value is not a release).
if [[ ! $release =~ ^[a-z]+$ || " $DEBIAN_RELEASES " != *" $release "* ]]; then
  printf 'RUNBOOK_RELEASE=%q is not a release this project builds (%s). Fix: use one of those.\n' \
    "$release" "$DEBIAN_RELEASES" >&2
  exit 2
fi
release_suffix=  # "-RELEASE" for the other releases: their images' and caches' names
if [[ $release != "$DEBIAN_SUITE" ]]; then
  release_suffix=-$release
  IMAGE_NAME=$IMAGE_NAME$release_suffix
  certbot_pin=CERTBOT_VERSION_${release^^}
  CERTBOT_VERSION=${!certbot_pin}
  DEBIAN_SUITE=$release
fi

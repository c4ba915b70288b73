/* pacsbox: the OHIF viewer's configuration. The viewer service serves this file with
 * `const PACSBOX = {...}` (from its settings) in front of it; do not edit the served copy.
 *
 * Tokens: a `?token=` in the address is read once, kept in sessionStorage and removed from the
 * address bar. A one-off token (it names its tokenServer) is exchanged there for an access token
 * and a refresh token. Every DICOMweb request then carries `Authorization: Bearer <access>`.
 * On a 401 the refresh token is tried once; failing that, the browser goes to the sign-in page,
 * which sends it back here with a new token. Without any token the session cookie set by
 * /auth/oauth (same origin) does the work.
 */
(function () {
  'use strict';
  const KEY = 'pacsbox.viewer.session';

  function load() {
    try {
      return JSON.parse(window.sessionStorage.getItem(KEY) || '{}');
    } catch (error) {
      return {};
    }
  }

  function store(session) {
    window.sessionStorage.setItem(KEY, JSON.stringify(session));
  }

  function claims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(window.atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch (error) {
      return {};
    }
  }

  function takeTokenFromAddress() {
    const url = new URL(window.location.href);
    const token = url.searchParams.get('token');
    if (!token) {
      return null;
    }
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    return token;
  }

  async function tokenPair(server, token) {
    const response = await fetch(server, {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token },
      credentials: 'same-origin',
    });
    if (!response.ok) {
      throw new Error(server + ' answered ' + response.status);
    }
    const access = (response.headers.get('Authorization') || '').replace(/^Bearer\s+/i, '');
    return { access: access, refresh: (await response.text()).trim() };
  }

  async function startSession() {
    const token = takeTokenFromAddress();
    if (token) {
      let session = { access: token, refresh: '' };
      if (claims(token).tokenServer) {
        try {
          session = await tokenPair(PACSBOX.tokenServer, token);
        } catch (error) {
          console.warn('pacsbox: one-off token not exchanged:', error.message);
        }
      }
      store(session);
    }
    return load();
  }

  let refreshing = false;

  async function onHttpError(error) {
    if (!error || error.status !== 401 || refreshing) {
      return;
    }
    refreshing = true;
    const session = load();
    if (session.refresh) {
      try {
        store(await tokenPair(PACSBOX.refreshServer, session.refresh));
        window.location.reload();
        return;
      } catch (refreshError) {
        console.warn('pacsbox: refresh failed:', refreshError.message);
      }
    }
    window.sessionStorage.removeItem(KEY);
    const back = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign(PACSBOX.signIn + '?redirect=' + encodeURIComponent(back));
  }

  function authorizationHeader() {
    const access = load().access;
    return access ? { Authorization: 'Bearer ' + access } : {};
  }

  window.config = async function pacsboxConfig({ servicesManager }) {
    await startSession();
    const useToken = (configuration) => {
      servicesManager.services.userAuthenticationService.setServiceImplementation({
        getAuthorizationHeader: authorizationHeader,
      });
      return configuration;
    };
    return {
      routerBasename: PACSBOX.routerBasename,
      showStudyList: true,
      showWarningMessageForCrossOrigin: false,
      showCPUFallbackMessage: false,
      showLoadingIndicator: true,
      strictZSpacingForVolumeViewport: true,
      investigationalUseDialog: { option: 'never' },
      maxNumberOfWebWorkers: 3,
      httpErrorHandler: onHttpError,
      defaultDataSourceName: 'pacsbox',
      extensions: [],
      modes: [],
      dataSources: [
        {
          namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
          sourceName: 'pacsbox',
          configuration: {
            friendlyName: PACSBOX.name,
            name: 'pacsbox',
            qidoRoot: PACSBOX.qidoRoot,
            wadoRoot: PACSBOX.wadoRoot,
            wadoUriRoot: PACSBOX.wadoUriRoot,
            qidoSupportsIncludeField: true,
            supportsReject: false,
            dicomUploadEnabled: true,
            imageRendering: 'wadors',
            thumbnailRendering: 'wadors',
            enableStudyLazyLoad: true,
            supportsFuzzyMatching: false,
            supportsWildcard: true,
            omitQuotationForMultipartRequest: true,
            singlepart: 'bulkdata,video,pdf',
            bulkDataURI: { enabled: true, relativeResolution: 'studies' },
            onConfiguration: useToken,
          },
        },
      ],
    };
  };
  // OHIF reads the router basename from window.config before it calls the function.
  window.config.routerBasename = PACSBOX.routerBasename;
})();

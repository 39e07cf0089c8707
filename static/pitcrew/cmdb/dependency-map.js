/* The CMDB dependency map: cytoscape.js draws the CIs around one CI, dependents above it and dependencies
   below, coloured by status. The depth select reloads the graph from the page's JSON endpoint. */
(function () {
  'use strict';

  var container = document.getElementById('dependency-map');
  if (!container || typeof window.cytoscape !== 'function') return;

  var depthSelect = document.getElementById('map-depth');
  var statusText = document.getElementById('map-status');
  var selection = document.getElementById('map-selection');
  var controls = document.getElementById('map-controls');
  var root = container.dataset.root;

  var SHAPES = {
    service: 'round-rectangle',
    server: 'rectangle',
    virtual_machine: 'cut-rectangle',
    workstation: 'bottom-round-rectangle',
    application: 'ellipse',
    database: 'barrel',
    network_device: 'diamond',
    network_segment: 'hexagon',
    storage: 'octagon',
    document: 'tag'
  };
  var TYPE_LABELS = {
    depends_on: 'depends on',
    runs_on: 'runs on',
    installed_on: 'installed on',
    connected_to: 'connected to',
    member_of: 'member of',
    backed_up_by: 'backed up by'
  };
  var COLUMN = 150;
  var ROW = 110;

  var cy = window.cytoscape({
    container: container,
    minZoom: 0.15,
    maxZoom: 2.5,
    wheelSensitivity: 0.3,
    style: [
      {
        selector: 'node',
        style: {
          'background-color': 'data(color)',
          'shape': function (node) { return SHAPES[node.data('ci_class')] || 'ellipse'; },
          'label': 'data(label)',
          'width': 34,
          'height': 34,
          'font-size': 11,
          'color': '#1d273b',
          'text-valign': 'bottom',
          'text-margin-y': 5,
          'text-wrap': 'ellipsis',
          'text-max-width': 130,
          'border-width': 1,
          'border-color': '#ffffff'
        }
      },
      { selector: 'node[ci_class = "service"]', style: { 'width': 58, 'height': 38 } },
      { selector: 'node.root', style: { 'border-width': 4, 'border-color': '#1d273b', 'font-weight': 'bold' } },
      { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#206bc4' } },
      {
        selector: 'edge',
        style: {
          'width': 1.5,
          'curve-style': 'bezier',
          'line-color': '#9aa5b8',
          'target-arrow-color': '#9aa5b8',
          'target-arrow-shape': 'triangle',
          'label': 'data(label)',
          'font-size': 8,
          'color': '#6c7a91',
          'text-rotation': 'autorotate',
          'text-background-color': '#f6f8fb',
          'text-background-opacity': 0.9,
          'text-background-padding': 1
        }
      }
    ]
  });

  // Dependents (downstream) go above the root, dependencies (upstream) below, one row per step.
  function positions(nodes) {
    var rows = {};
    nodes.forEach(function (node) {
      var level = node.role === 'downstream' ? -node.depth : node.role === 'upstream' ? node.depth : 0;
      (rows[level] = rows[level] || []).push(node);
    });
    var placed = {};
    Object.keys(rows).forEach(function (level) {
      var row = rows[level].sort(function (a, b) {
        return a.ci_class.localeCompare(b.ci_class) || a.label.localeCompare(b.label);
      });
      var width = (row.length - 1) * COLUMN;
      row.forEach(function (node, index) {
        placed[node.id] = { x: index * COLUMN - width / 2, y: Number(level) * ROW };
      });
    });
    return placed;
  }

  function describe(node) {
    var data = node.data();
    selection.replaceChildren();
    var title = document.createElement('a');
    title.href = data.url;
    title.className = 'fw-bold d-block';
    title.textContent = data.id + ' ' + data.label;
    var details = document.createElement('div');
    details.className = 'text-secondary small';
    details.textContent = data.ci_class.replace(/_/g, ' ') + ' · ' + data.status.replace(/_/g, ' ') +
      (data.role === 'root' ? '' : ' · ' + data.depth + ' step' + (data.depth === 1 ? '' : 's') +
        (data.role === 'downstream' ? ' above (depends on it)' : ' below (it depends on this)'));
    selection.append(title, details);
  }

  function render(graph) {
    cy.elements().remove();
    var placed = positions(graph.nodes);
    cy.add(graph.nodes.map(function (node) {
      return { group: 'nodes', data: node, classes: node.role, position: placed[node.id] };
    }));
    cy.add(graph.edges.map(function (edge) {
      return {
        group: 'edges',
        data: { id: edge.id, source: edge.source, target: edge.target, label: TYPE_LABELS[edge.type] || edge.type }
      };
    }));
    cy.layout({ name: 'preset', fit: true, padding: 40 }).run();
    container.dataset.nodeCount = String(graph.nodes.length);
    container.dataset.edgeCount = String(graph.edges.length);
    container.dataset.loadedDepth = String(graph.depth);
    statusText.textContent = graph.nodes.length + ' CI' + (graph.nodes.length === 1 ? '' : 's') + ', ' +
      graph.edges.length + ' relationship' + (graph.edges.length === 1 ? '' : 's') +
      (graph.truncated ? ' (nearest shown; reduce the depth to see all)' : '');
  }

  function load(depth) {
    container.setAttribute('aria-busy', 'true');
    statusText.textContent = 'Loading…';
    fetch(container.dataset.graphUrl + '?depth=' + encodeURIComponent(depth), {
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json' }
    })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (graph) {
        render(graph);
        var url = new URL(window.location.href);
        url.searchParams.set('depth', depth);
        window.history.replaceState(null, '', url);
      })
      .catch(function (error) {
        statusText.textContent = 'The map could not be loaded (' + error.message + ').';
      })
      .finally(function () {
        container.removeAttribute('aria-busy');
      });
  }

  cy.on('tap', 'node', function (event) { describe(event.target); });
  cy.on('dbltap', 'node', function (event) {
    var number = event.target.id();
    if (number !== root) {
      window.location.href = container.dataset.mapUrl.replace('CI0000000', number) + '?depth=' + depthSelect.value;
    }
  });
  depthSelect.addEventListener('change', function () { load(depthSelect.value); });
  controls.addEventListener('submit', function (event) { event.preventDefault(); });
  document.getElementById('map-fit').addEventListener('click', function () { cy.fit(undefined, 40); });

  load(container.dataset.depth || depthSelect.value);
})();
